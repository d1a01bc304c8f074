// Owns taking the bed down: idempotent, by namespace inode, repeated until no process is left.

import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runSync, sleepSync } from "./command.js";
import { withLockSync } from "./lock.js";
import {
  defaultNames,
  hostAddress,
  hostDir,
  hostName,
  parseHostDir,
  type TestbedNames,
} from "./names.js";
import {
  listHostNamespaces,
  listVeths,
  netnsPath,
  removeBridgeAndTables,
  removeHostNetwork,
} from "./network.js";
import { isGone, killPid, netInodeOfPath, pidsInNetns, processTree } from "./procfs.js";
import { readSshdPid } from "./sshd.js";
import { readState } from "./state.js";

/**
 * Takes the whole bed down; on nothing it does nothing and succeeds. Sync on purpose: it must also
 * run from a process 'exit' handler. Host dirs stay for inspection.
 */
export function down(names: TestbedNames = defaultNames()): void {
  if (!existsSync(names.stateDir)) {
    downUnlocked(names);
    return;
  }
  withLockSync(names.stateDir, () => downUnlocked(names));
}

export function downUnlocked(names: TestbedNames): void {
  if (readState(names.stateDir)?.mode === "loopback") stopLoopbackSshd(names);
  if (process.getuid?.() === 0) removeAllHosts(names);
  rmSync(join(names.stateDir, "state.json"), { force: true });
}

function removeAllHosts(names: TestbedNames): void {
  const ks = new Set([...listHostNamespaces(names), ...recordedHosts(names)]);
  removeHosts(names, [...ks]);
  for (const veth of listVeths(names)) runSync(["ip", "link", "del", veth]);
  removeBridgeAndTables(names);
}

/** Kills everything in hosts `ks` (also in namespaces already deleted by hand), then their links. */
export function removeHosts(names: TestbedNames, ks: readonly number[]): void {
  const inodes = new Set<number>();
  for (const k of ks) {
    const current = netInodeOfPath(netnsPath(hostName(names, k)));
    if (current !== undefined) inodes.add(current);
    const recorded = recordedInode(names, k);
    if (recorded !== undefined && recorded !== current && isOrphanOf(recorded, names, k)) {
      inodes.add(recorded);
    }
  }
  killAllIn(inodes);
  for (const k of ks) {
    removeHostNetwork(names, k);
    rmSync(join(hostDir(names, k), "netns_inode"), { force: true });
  }
}

/** An sshd forking a session while we list leaves a child we did not see: list again until empty. */
function killAllIn(inodes: ReadonlySet<number>): void {
  for (let round = 0; round < 200; round++) {
    const pids = pidsInNetns(inodes);
    if (pids.length === 0) return;
    for (const pid of pids) killPid(pid);
    sleepSync(5);
  }
}

/**
 * A namespace deleted by hand lives on while processes hold it. Its inode number is recycled once it
 * is freed, so a recorded inode counts only while that namespace still carries host k's address.
 */
function isOrphanOf(inode: number, names: TestbedNames, k: number): boolean {
  const [pid] = pidsInNetns(new Set([inode]));
  if (pid === undefined) return false;
  const addrs = runSync(["nsenter", "-t", String(pid), "-n", "ip", "-o", "-4", "addr", "show"]);
  return addrs.stdout.includes(` ${hostAddress(names, k)}/24 `);
}

function stopLoopbackSshd(names: TestbedNames): void {
  const pid = readSshdPid(hostDir(names, 1));
  if (pid === undefined) return;
  for (let round = 0; round < 200 && !isGone(pid); round++) {
    for (const member of processTree(pid)) killPid(member);
    sleepSync(5);
  }
}

function recordedHosts(names: TestbedNames): number[] {
  let entries: string[];
  try {
    entries = readdirSync(names.stateDir);
  } catch {
    return [];
  }
  return entries
    .map((entry) => parseHostDir(entry))
    .filter((k): k is number => k !== undefined && recordedInode(names, k) !== undefined);
}

export function recordedInode(names: TestbedNames, k: number): number | undefined {
  try {
    const inode = Number(readFileSync(join(hostDir(names, k), "netns_inode"), "utf8").trim());
    return Number.isInteger(inode) && inode > 0 ? inode : undefined;
  } catch {
    return undefined;
  }
}
