// Owns the fault pool's leases: one process at a time per fault host, across every test run on the
// machine (all share the state dir); a lease whose process died is taken over.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withLockSync } from "./lock.js";
import { isGone, startTimeOf } from "./procfs.js";
import { TestbedError } from "./types.js";

/** Below vitest's 120 s test timeout, so a test that waits too long fails with who holds the pool. */
export const LEASE_WAIT_MS = 100_000;

interface LeaseRecord {
  pid: number;
  /** The holder's start time: a pid reused by another process does not keep the lease. */
  started: string;
  /** Who holds it (a test's name), for the message of a test that waits in vain. */
  holder: string;
}

export interface LeaseOptions {
  /** What the lease is for, shown to a waiting test. */
  holder: string;
  waitMs?: number;
  /** Set when the waiting test ended meanwhile: stop waiting, take nothing. */
  cancelled?: () => boolean;
}

function leaseDir(stateDir: string): string {
  return join(stateDir, "fault-leases");
}

function leasePath(stateDir: string, host: string): string {
  return join(leaseDir(stateDir), `${host}.json`);
}

/**
 * The first free host of `pool`, leased to this process; waits (polling) while all are held.
 * Returns undefined only when cancelled.
 */
export async function acquireFaultHost(
  stateDir: string,
  pool: readonly string[],
  options: LeaseOptions,
): Promise<string | undefined> {
  if (pool.length === 0) {
    throw new TestbedError("the bed has no fault hosts (needs the namespaced bed: root, ip, nft)");
  }
  const deadline = Date.now() + (options.waitMs ?? LEASE_WAIT_MS);
  for (;;) {
    if (options.cancelled?.() === true) return undefined;
    const taken = tryAcquire(stateDir, pool, options.holder);
    if (taken !== undefined) return taken;
    if (Date.now() > deadline) {
      const held = pool.map((host) => `${host} by ${describeHolder(stateDir, host)}`);
      throw new TestbedError(
        `all ${pool.length} fault hosts stayed leased for ${Math.round((options.waitMs ?? LEASE_WAIT_MS) / 1000)} s: ${held.join("; ")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function tryAcquire(stateDir: string, pool: readonly string[], holder: string): string | undefined {
  mkdirSync(leaseDir(stateDir), { recursive: true, mode: 0o700 });
  return withLockSync(leaseDir(stateDir), () => {
    const free = pool.find((host) => liveHolder(stateDir, host) === undefined);
    if (free === undefined) return undefined;
    const record: LeaseRecord = {
      pid: process.pid,
      started: startTimeOf(process.pid) ?? "",
      holder,
    };
    writeFileSync(leasePath(stateDir, free), `${JSON.stringify(record)}\n`);
    return free;
  });
}

/** Gives the lease back; a lease this process does not hold is left alone. */
export function releaseFaultHost(stateDir: string, host: string): void {
  withLockSync(leaseDir(stateDir), () => {
    if (holdsFaultHost(stateDir, host)) rmSync(leasePath(stateDir, host), { force: true });
  });
}

/** Whether this process holds `host`'s lease now. */
export function holdsFaultHost(stateDir: string, host: string): boolean {
  return liveHolder(stateDir, host)?.pid === process.pid;
}

/** The lease's record while its process lives; undefined when free or its holder is gone. */
function liveHolder(stateDir: string, host: string): LeaseRecord | undefined {
  const record = readRecord(leasePath(stateDir, host));
  if (record === undefined) return undefined;
  if (isGone(record.pid) || startTimeOf(record.pid) !== record.started) return undefined;
  return record;
}

/** Who holds `host` now: "pid P (holder)", or "nobody". */
export function describeHolder(stateDir: string, host: string): string {
  const record = liveHolder(stateDir, host);
  return record === undefined ? "nobody" : `pid ${record.pid} (${record.holder})`;
}

function readRecord(path: string): LeaseRecord | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LeaseRecord>;
    if (typeof parsed.pid !== "number" || typeof parsed.started !== "string") return undefined;
    return { pid: parsed.pid, started: parsed.started, holder: String(parsed.holder ?? "?") };
  } catch {
    return undefined;
  }
}
