// Owns bringing the suite's Slurm cluster up and down: a bed of 3 sshd hosts on its own bridge (login
// node + 2 compute nodes), munge, slurmctld, one slurmd per compute host; always all taken down.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { runSync, sleep } from "../../testbed/command.js";
import { down, up } from "../../testbed/index.js";
import { isGone } from "../../testbed/procfs.js";
import { readSshdPid } from "../../testbed/sshd.js";
import { CGROUP_CONF, slurmConfText } from "./conf.js";
import { startMunged, startSlurmctld, startSlurmd, stopDaemon } from "./daemons.js";
import {
  CLUSTER_LOCK,
  COMPUTE_HOSTS,
  CONF_DIR,
  type ComputeNode,
  computeNodes,
  LOGIN,
  SLURM_BED,
  SLURM_CONF,
  SLURM_DIR,
  WORK_DIR,
} from "./layout.js";

export interface SlurmCluster {
  /** ssh alias of the login node, usable with `ssh -F sshConfig`. */
  login: string;
  sshConfig: string;
  nodes: ComputeNode[];
  /** Where tests put their remote dirs: the login node and the compute nodes all see it. */
  workDir: string;
  /** The environment for Slurm's clients run from this machine (sinfo, squeue). */
  clientEnv: NodeJS.ProcessEnv;
}

export const clientEnv: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF };

export async function upCluster(): Promise<SlurmCluster> {
  await takeLock();
  try {
    downCluster({ keepLock: true });
    const nodes = computeNodes();
    const info = await up(1 + COMPUTE_HOSTS, SLURM_BED);
    writeFiles(nodes);
    startMunged();
    await waitFor("munged", () => existsSync(join(SLURM_DIR, "run", "munge.sock")), 5_000);
    // The hosts read /etc/slurm as on a real cluster: clients on the login node need no SLURM_CONF.
    for (let k = 1; k <= 1 + COMPUTE_HOSTS; k++) {
      execFileSync("nsenter", [
        "-t",
        String(sshdPid(k)),
        "-m",
        "mount",
        "--bind",
        CONF_DIR,
        "/etc/slurm",
      ]);
    }
    startSlurmctld();
    for (const node of nodes) startSlurmd(node.name, sshdPid(node.k));
    await waitFor("all nodes idle", () => sinfo() === `idle ${COMPUTE_HOSTS}`, 30_000);
    rmSync(WORK_DIR, { recursive: true, force: true });
    mkdirSync(WORK_DIR, { recursive: true, mode: 0o755 });
    return { login: LOGIN, sshConfig: info.sshConfig, nodes, workDir: WORK_DIR, clientEnv };
  } catch (error) {
    const logs = daemonLogTails();
    downCluster();
    throw new Error(`Slurm test cluster did not come up: ${(error as Error).message}\n${logs}`);
  }
}

/** The controller goes away (as in a restart or an outage); running jobs go on on their nodes. */
export function stopController(): void {
  stopDaemon("slurmctld");
}

/** The controller back from its saved state; resolves once it answers. */
export async function startController(): Promise<void> {
  startSlurmctld();
  await waitFor("slurmctld", () => sinfo() !== "", 30_000);
}

/** Idempotent and sync (it also runs from an 'exit' handler): daemons, hosts, job cgroups, lock. */
export function downCluster(options: { keepLock?: boolean } = {}): void {
  stopDaemon("slurmctld");
  // Everything in the hosts' namespaces goes: sshd, slurmd, slurmstepd and every job process.
  down(SLURM_BED);
  for (const node of computeNodes()) stopDaemon(`slurmd-${node.name}`);
  stopDaemon("munged");
  removeJobCgroups();
  if (options.keepLock !== true) releaseLock();
}

function sshdPid(k: number): number {
  const pid = readSshdPid(join(SLURM_BED.stateDir, `h${k}`));
  if (pid === undefined) throw new Error(`${SLURM_BED.hostPrefix}${k}: no sshd`);
  return pid;
}

function writeFiles(nodes: ComputeNode[]): void {
  // munged refuses world-writable dirs; a fresh state dir means job ids from 1 and no old jobs.
  rmSync(join(SLURM_DIR, "state"), { recursive: true, force: true });
  rmSync(join(SLURM_DIR, "spool"), { recursive: true, force: true });
  // Job ids start at 1 again: an old jobcomp file would answer sacct for a job of an earlier run.
  rmSync(join(SLURM_DIR, "log"), { recursive: true, force: true });
  for (const sub of ["etc", "run", "log", "state", "spool", "munge"]) {
    mkdirSync(join(SLURM_DIR, sub), { recursive: true, mode: 0o755 });
    chmodSync(join(SLURM_DIR, sub), 0o755);
  }
  for (const node of nodes) mkdirSync(join(SLURM_DIR, "spool", node.name), { recursive: true });
  const key = join(SLURM_DIR, "munge", "munge.key");
  if (!existsSync(key)) {
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  }
  writeFileSync(SLURM_CONF, slurmConfText(nodes), { mode: 0o644 });
  writeFileSync(join(CONF_DIR, "cgroup.conf"), CGROUP_CONF, { mode: 0o644 });
}

function sinfo(): string {
  return runSync(["sinfo", "-h", "-o", "%T %D"], {
    env: clientEnv,
    timeoutMs: 5_000,
  }).stdout.trim();
}

async function waitFor(what: string, ready: () => boolean, capMs: number): Promise<void> {
  const deadline = Date.now() + capMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** slurmd makes a cgroup per job and step under each controller; killed daemons leave them behind. */
function removeJobCgroups(): void {
  let controllers: string[];
  try {
    controllers = readdirSync("/sys/fs/cgroup");
  } catch {
    return;
  }
  for (const controller of controllers) {
    const root = join("/sys/fs/cgroup", controller);
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry === "slurm" || entry.startsWith(`slurm_${SLURM_BED.hostPrefix}`)) {
        removeDepthFirst(join(root, entry));
      }
    }
  }
}

function removeDepthFirst(dir: string): void {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) removeDepthFirst(join(dir, entry.name));
  try {
    rmdirSync(dir);
  } catch {
    // A cgroup with a process left in it stays; the next down tries again.
  }
}

function daemonLogTails(): string {
  const dir = join(SLURM_DIR, "log");
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return "";
  }
  return files
    .map((file) => {
      const lines = readFileSync(join(dir, file), "utf8").trimEnd().split("\n").slice(-8);
      return `--- ${file} ---\n${lines.join("\n")}`;
    })
    .join("\n");
}

// Another file's tests hold the cluster for their whole run (the run tests take ~4 min on 2 cores).
const LOCK_WAIT_MS = 420_000;

async function takeLock(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(CLUSTER_LOCK);
      writeFileSync(join(CLUSTER_LOCK, "owner"), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(readOrEmpty(join(CLUSTER_LOCK, "owner")).trim());
    if (Number.isInteger(owner) && owner > 0 && isGone(owner)) {
      rmSync(CLUSTER_LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`${CLUSTER_LOCK} held by pid ${owner} (another test run)`);
    await sleep(200);
  }
}

function releaseLock(): void {
  if (Number(readOrEmpty(join(CLUSTER_LOCK, "owner")).trim()) === process.pid) {
    rmSync(CLUSTER_LOCK, { recursive: true, force: true });
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
