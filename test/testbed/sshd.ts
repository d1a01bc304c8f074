// Owns starting an sshd (inside a host namespace or on loopback) and probing it until it serves.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run, sleep } from "./command.js";
import { isGone } from "./procfs.js";
import { TestbedError } from "./types.js";

/** A launched sshd; `exited` is set if the launcher died before serving (bad mount, bad config). */
export interface LaunchedSshd {
  dir: string;
  child: ChildProcess;
  exited: { code: number | null } | undefined;
}

/**
 * sshd in namespace `netns` with private /etc/hostname, /etc/hosts, /root, /tmp, /dev/shm, /run.
 * nsenter + unshare, not `ip netns exec`, which remounts /sys and leaves /sys/fs/cgroup empty.
 * setsid keeps it out of the caller's process group, so a runner signalling its group spares it.
 */
export function launchNamespacedSshd(
  netnsFile: string,
  host: string,
  dir: string,
  etcHosts: string,
): LaunchedSshd {
  const q = shellQuote;
  const script = [
    "set -e",
    `hostname ${q(host)}`,
    `mount --bind ${q(join(dir, "hostname"))} /etc/hostname`,
    `mount --bind ${q(etcHosts)} /etc/hosts`,
    `mount --bind ${q(join(dir, "root"))} /root`,
    `mount --bind ${q(join(dir, "tmp"))} /tmp`,
    "mount -t tmpfs -o mode=1777 tmpfs /dev/shm",
    "mount -t tmpfs -o mode=755 tmpfs /run",
    "mkdir -m 755 /run/sshd",
    `exec /usr/sbin/sshd -D -e -f ${q(join(dir, "sshd_config"))}`,
  ].join("\n");
  const argv = ["nsenter", `--net=${netnsFile}`, "unshare", "--mount", "--uts"];
  return launch("setsid", [...argv, "--propagation", "private", "sh", "-c", script], dir, false);
}

export function launchLoopbackSshd(dir: string): LaunchedSshd {
  return launch("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], dir, true);
}

function launch(file: string, args: string[], dir: string, detached: boolean): LaunchedSshd {
  // All three fds redirected, or a caller reading our output would wait for sshd to exit.
  const log = openSync(join(dir, "sshd.log"), "w", 0o600);
  try {
    const child = spawn(file, args, { stdio: ["ignore", log, log], detached });
    const launched: LaunchedSshd = { dir, child, exited: undefined };
    child.on("exit", (code) => {
      launched.exited = { code };
    });
    child.on("error", () => {
      launched.exited = { code: 127 };
    });
    child.unref();
    return launched;
  } finally {
    closeSync(log);
  }
}

export function readSshdPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, "sshd.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const READY_CAP_MS = 5_000;

/** Waits for the PidFile (written once sshd listens), then retries `ssh alias true` every 100 ms. */
export async function waitUntilServing(
  alias: string,
  sshConfig: string,
  dir: string,
  launched?: LaunchedSshd,
): Promise<void> {
  const deadline = Date.now() + READY_CAP_MS;
  let lastError = "";
  while (Date.now() < deadline) {
    if (launched?.exited !== undefined) {
      lastError = `sshd launcher exited with ${launched.exited.code}`;
      break;
    }
    const pid = readSshdPid(dir);
    if (pid === undefined || isGone(pid)) {
      await sleep(25);
      continue;
    }
    const probe = await run(["ssh", "-F", sshConfig, "-o", "ConnectTimeout=2", alias, "true"], {
      timeoutMs: 4_000,
    });
    if (probe.code === 0) return;
    lastError = probe.stderr.trim();
    await sleep(100);
  }
  throw new TestbedError(
    `sshd for ${alias} not serving after ${READY_CAP_MS / 1000} s: ${lastError || "no PidFile"}\n` +
      `--- tail of ${join(dir, "sshd.log")} ---\n${tail(join(dir, "sshd.log"), 20)}` +
      lockedRootHint(lastError),
  );
}

function lockedRootHint(error: string): string {
  if (!/Permission denied/.test(error) || process.getuid?.() !== 0) return "";
  return "\nhint: with UsePAM no, sshd refuses accounts whose password field starts with '!'; run: usermod -p '*' root";
}

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return "(no log)\n";
  const text = readFileSync(path, "utf8").trimEnd().split("\n");
  return `${text.slice(-lines).join("\n")}\n`;
}

export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
