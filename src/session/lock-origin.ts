// This offload as the holder of a remote dir's lock (remote/lock.ts, LockOrigin): its machine, pid and
// start time; and whether a holder that said it ran on this same machine is gone, so that its lock can
// be taken at once instead of after its heartbeat goes stale.
import { readFileSync } from "node:fs";
import { isLockOrigin, type LockOrigin, readLockedOrigin } from "../remote/lock.js";
import { parseHolder } from "./lock.js";

/** The machine id and boot id: a pid and a start time name one process only within one boot. */
function readMachine(): string | undefined {
  try {
    const machine = readFileSync("/etc/machine-id", "utf8").trim();
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().replaceAll("-", "");
    return /^[0-9a-f]+$/.test(machine) && /^[0-9a-f]+$/.test(boot)
      ? `${machine}-${boot}`
      : undefined;
  } catch {
    return undefined;
  }
}

/** A process's start (clock ticks since boot) from /proc, and whether it has ended (a zombie). */
function readProcess(pid: number): { start: string; ended: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = fields[19];
    return start === undefined ? undefined : { start, ended: fields[0] === "Z" };
  } catch {
    return undefined;
  }
}

let own: LockOrigin | null | undefined;

/** This offload's LockOrigin; undefined where the machine cannot say who it is (no machine id, no /proc). */
export function localOrigin(): LockOrigin | undefined {
  if (own === undefined) {
    const machine = readMachine();
    const self = readProcess(process.pid);
    const origin = machine && self ? `${machine}/${process.pid}/${self.start}` : undefined;
    own = origin !== undefined && isLockOrigin(origin) ? origin : null;
  }
  return own ?? undefined;
}

/**
 * Whether an origin names an offload of this machine's current boot that no longer runs: no process
 * with that pid, one that has ended, or another process that reuses the pid (its start differs). A
 * holder on another machine, or one this machine cannot check, is never said dead.
 */
export function isDeadLocalOrigin(origin: LockOrigin): boolean {
  return describeOrigin(origin) === "ended";
}

/**
 * Whether the offload an origin names still runs: `ended` and `running` only for one of this machine's
 * current boot (its pid, proven by its start time); `unknown` for another machine's, or where this one
 * cannot tell.
 */
export function describeOrigin(origin: string): "running" | "ended" | "unknown" {
  const mine = localOrigin();
  // A plan's origin was read from a file anyone may edit: only one of the form offload writes is read.
  if (!isLockOrigin(origin)) return "unknown";
  const [machine, pid, start] = origin.split("/");
  if (mine === undefined || machine !== mine.split("/")[0]) return "unknown";
  const found = readProcess(Number(pid));
  return found === undefined || found.ended || found.start !== start ? "ended" : "running";
}

/**
 * The holder a lock refusal names, where it is an unlaunched run whose offload ran on this machine and
 * is gone: the reclaim request for a second prepare. Undefined otherwise.
 */
export function findDeadLocalHolder(
  locked: string,
): { holder: string; origin: LockOrigin } | undefined {
  const origin = readLockedOrigin(locked);
  if (origin === undefined || !isDeadLocalOrigin(origin)) return undefined;
  return { holder: parseHolder(locked).holder, origin };
}
