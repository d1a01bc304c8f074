// Owns serialising up/down between test runs that share one bed, and the leases that keep it up.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleepSync } from "./command.js";
import { isGone } from "./procfs.js";
import { TestbedError } from "./types.js";

const LOCK_WAIT_MS = 60_000;

/**
 * Runs `fn` holding `<stateDir>/lock` (a directory: mkdir is atomic). A lock whose owner died is
 * taken over. Sync, so down() can use it from an 'exit' handler.
 */
export function withLockSync<T>(stateDir: string, fn: () => T): T {
  // Re-entrant: a signal handler's down() may run while this process's up() holds the lock.
  if (heldByUs(stateDir)) return fn();
  acquire(stateDir);
  try {
    return fn();
  } finally {
    rmSync(join(stateDir, "lock"), { recursive: true, force: true });
  }
}

export async function withLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  acquire(stateDir);
  try {
    return await fn();
  } finally {
    rmSync(join(stateDir, "lock"), { recursive: true, force: true });
  }
}

function heldByUs(stateDir: string): boolean {
  return readNumber(join(stateDir, "lock", "owner")) === process.pid;
}

function acquire(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lock = join(stateDir, "lock");
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "owner"), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = readNumber(join(lock, "owner"));
    if (owner !== undefined && owner !== process.pid && isGone(owner)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new TestbedError(`test bed lock ${lock} held by pid ${owner ?? "?"} for over 60 s`);
    }
    sleepSync(50);
  }
}

/** A lease says "process P uses N hosts": the bed goes down only when the last live lease goes. */
export function addLease(stateDir: string, hosts: number): void {
  mkdirSync(join(stateDir, "leases"), { recursive: true, mode: 0o700 });
  writeFileSync(join(stateDir, "leases", String(process.pid)), String(hosts));
}

export function dropLease(stateDir: string): void {
  rmSync(join(stateDir, "leases", String(process.pid)), { force: true });
}

/** Host counts of other live processes' leases; stale ones are removed on the way. */
export function otherLeases(stateDir: string): number[] {
  const dir = join(stateDir, "leases");
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const counts: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (isGone(pid)) {
      rmSync(join(dir, entry), { force: true });
      continue;
    }
    counts.push(readNumber(join(dir, entry)) ?? 0);
  }
  return counts;
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
