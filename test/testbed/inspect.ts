// Owns looking inside a host: running a command in its namespaces and listing its processes.

import type { CommandOptions } from "./command.js";
import { run } from "./command.js";
import { listenerPid, resolveHost } from "./host.js";
import { defaultNames, type TestbedNames } from "./names.js";
import { commOf, describeProcess, netInodeOfPid, pidsInNetns } from "./procfs.js";
import type { ExecResult, HostProcess } from "./types.js";

/** Runs argv in the host's net, mount and UTS namespaces (its /tmp, ~, hostname), not over ssh. */
export async function execInHost(
  host: string,
  argv: readonly string[],
  options: CommandOptions = {},
  names: TestbedNames = defaultNames(),
): Promise<ExecResult> {
  const pid = listenerPid(resolveHost(names, host, "execInHost"));
  return run(["nsenter", "-t", String(pid), "-n", "-m", "-u", "--", ...argv], options);
}

/** Live processes in the host's network namespace (zombies excluded), the listening sshd included. */
export function processesInHost(host: string, names: TestbedNames = defaultNames()): HostProcess[] {
  const inode = hostNetInode(host, names);
  return pidsInNetns(new Set([inode]))
    .map((pid) => describeProcess(pid))
    .filter((proc): proc is HostProcess => proc !== undefined);
}

/** sshd per-connection children of the host; the listener is left out. */
export function sessionPids(host: string, names: TestbedNames = defaultNames()): number[] {
  const listener = listenerPid(resolveHost(names, host, "sessionPids"));
  return pidsInNetns(new Set([hostNetInode(host, names)])).filter((pid) => {
    const comm = commOf(pid);
    // OpenSSH >= 9.8 names the per-connection process sshd-session.
    return pid !== listener && (comm === "sshd" || comm === "sshd-session");
  });
}

function hostNetInode(host: string, names: TestbedNames): number {
  const pid = listenerPid(resolveHost(names, host, "processesInHost"));
  const inode = netInodeOfPid(pid);
  if (inode === undefined) throw new Error(`cannot read the network namespace of pid ${pid}`);
  return inode;
}
