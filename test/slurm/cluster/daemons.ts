// Owns starting and stopping the cluster's daemons: munged and slurmctld in the root namespace,
// slurmd entered into each compute host's namespaces (its hostname is its NodeName).

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleepSync } from "../../testbed/command.js";
import { isGone, killPid } from "../../testbed/procfs.js";
import { CONTROLLER, MUNGE_SOCKET, SLURM_CONF, SLURM_DIR } from "./layout.js";

/** Starts `argv` in a session of its own with every fd on `log`; returns its pid (it execs, no fork). */
export function startDaemon(name: string, argv: readonly string[]): number {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("empty argv");
  const log = openSync(join(SLURM_DIR, "log", `${name}.out`), "a", 0o644);
  try {
    const child = spawn(file, args, { stdio: ["ignore", log, log], detached: true });
    child.on("error", () => {});
    child.unref();
    if (child.pid === undefined) throw new Error(`${file} did not start`);
    writeFileSync(pidFile(name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

function pidFile(name: string): string {
  return join(SLURM_DIR, "run", `${name}.daemon-pid`);
}

export function startMunged(): number {
  return startDaemon("munged", [
    "munged",
    "--foreground",
    `--socket=${MUNGE_SOCKET}`,
    `--key-file=${join(SLURM_DIR, "munge", "munge.key")}`,
    `--log-file=${join(SLURM_DIR, "log", "munged.log")}`,
    `--pid-file=${join(SLURM_DIR, "run", "munged.pid")}`,
    `--seed-file=${join(SLURM_DIR, "munge", "munged.seed")}`,
  ]);
}

/** slurmctld refuses to start unless its hostname matches SlurmctldHost: a UTS namespace of its own. */
export function startSlurmctld(): number {
  const script = `hostname ${CONTROLLER.name} && exec slurmctld -D -i -f ${SLURM_CONF}`;
  return startDaemon("slurmctld", ["unshare", "--uts", "sh", "-c", script]);
}

/** slurmd inside the host whose listening sshd is `sshdPid`: its network, mounts and hostname. */
export function startSlurmd(node: string, sshdPid: number): number {
  return startDaemon(`slurmd-${node}`, [
    "nsenter",
    "-t",
    String(sshdPid),
    "-n",
    "-m",
    "-u",
    "slurmd",
    "-D",
    "-f",
    SLURM_CONF,
  ]);
}

/** TERM, then KILL after `graceMs`; waits until gone. Sync: also runs from an 'exit' handler. */
export function stopDaemon(name: string, graceMs = 3_000): void {
  const path = pidFile(name);
  if (!existsSync(path)) return;
  const pid = Number(readFileSync(path, "utf8").trim());
  if (Number.isInteger(pid) && pid > 1 && isOurs(pid, name)) {
    killPid(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (!isGone(pid) && Date.now() < deadline) sleepSync(20);
    for (let round = 0; round < 250 && !isGone(pid); round++) {
      killPid(pid, "SIGKILL");
      sleepSync(20);
    }
  }
  writeFileSync(path, "");
}

/** A recorded pid is signalled only while it still runs the daemon we started (pids get reused). */
function isOurs(pid: number, name: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const program = name.startsWith("slurmd-") ? "slurmd" : name;
    return cmdline.includes(program);
  } catch {
    return false;
  }
}
