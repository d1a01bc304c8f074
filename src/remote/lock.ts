// The remote dir's lock (DESIGN.md: "taken before any byte of the remote dir changes"). The prepare round
// trip takes it, before the sync; the launch round trip only checks that it still holds it; the launcher
// frees it when the job has ended, a failed start frees it at once.

import { quoteShell } from "../shell/quote.js";
import { buildRecordLatestRun } from "./latest-run.js";
import { LOCK_FILE, MARK, remoteRunDir } from "./layout.js";
import { readMarkers } from "./markers.js";
import { readUnproven, STOP_MARK } from "./stop.js";

/** How often a run that holds the lock but has not launched yet says it is still alive. */
export const LOCK_HEARTBEAT_SECONDS = 15;
/** A lock with no launcher whose holder has not said so for this long belongs to an offload that died. */
export const LOCK_STALE_SECONDS = 60;
/**
 * MARK.locked's third field, for a holder that has not launched its job (see readUnlaunchedSeconds);
 * MARK.forced carries it bare when --force took the lock of such a holder, which had nothing to stop.
 */
const UNLAUNCHED = "unlaunched:";
/** MARK.locked's last field, for an unlaunched holder that said where its offload runs (LockOrigin). */
const ORIGIN = "origin:";
/** What a lock origin may hold: it reaches a shell test and a marker as one word. */
const ORIGIN_PATTERN = /^[0-9a-zA-Z-]+\/[0-9]+\/[0-9]+$/;

/**
 * The offload process that holds a lock before its launch: `<machine>/<pid>/<start time>`, the machine
 * as its machine id and boot id, the start time in clock ticks since boot. An offload on that same
 * machine can prove the holder dead (no such process) and take the lock at once, instead of waiting
 * for its heartbeat to go stale.
 */
export type LockOrigin = string;

export function isLockOrigin(text: string): boolean {
  return ORIGIN_PATTERN.test(text);
}

export interface LockRequest {
  runId: string;
  /** Stop the run holding the lock instead of refusing. */
  force: boolean;
  graceSeconds: number;
  /** This offload (LockOrigin), written beside the run's state for a later run to prove it dead. */
  origin?: LockOrigin | undefined;
  /**
   * Take over this holder's lock: its offload ran on this machine and is gone (the caller proved it).
   * Honoured only while the lock is still that holder's, it still has not launched, and its origin file
   * still says the same.
   */
  reclaim?: { holder: string; origin: LockOrigin } | undefined;
}

/**
 * One shell line (in the remote dir) that frees the lock where `runId` still holds it, and only then.
 * stderr goes first: redirections apply left to right, and a missing lock must not print into a job's log.
 */
export function buildReleaseLock(runId: string): string {
  return `holder=; read -r holder _ 2>/dev/null < ${LOCK_FILE}; if [ "$holder" = ${quoteShell(runId)} ]; then rm -f ${LOCK_FILE}; fi`;
}

/**
 * Shell steps (needing PROTOCOL_FUNCTIONS, run in the remote dir) that take the lock, or print
 * MARK.locked and exit 3 having changed nothing. A lock whose run has ended, whose launcher is gone, or
 * whose holder stopped its heartbeat before launching is reclaimed with MARK.reclaimed; with --force a
 * live holder is stopped first (MARK.forced). The run's own dir is made only once the lock is taken.
 */
/** Slurm's states of a job that has ended (squeue's %T), as one shell case pattern. */
const SLURM_ENDED_STATES = [
  "COMPLETED",
  "CANCELLED",
  "FAILED",
  "TIMEOUT",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
].join(" | ");

export function buildTakeLockSteps(lock: LockRequest): string[] {
  const run = quoteShell(remoteRunDir(lock.runId));
  const id = quoteShell(lock.runId);
  const take = `( set -C; printf '%s %s\\n' ${id} "$(date +%s)" > ${LOCK_FILE} ) 2>/dev/null`;
  return [
    // An existing .offload means a dir that may be locked: leave it untouched (and spare a process).
    // A .offload that offload cannot write (a read-only mount, another user's) is said as such: the
    // failed lock take read as a lock held by nobody (E_LOCKED, no run). The mkdir shows the OS's reason.
    `[ -d .offload ] || mkdir .offload || { ${unwritable("$PWD/.offload")}; }`,
    `if [ ! -w .offload ]; then mkdir .offload/.write-check && rmdir .offload/.write-check || { ${unwritable("$PWD/.offload")}; }; fi`,
    `if ! ${take}; then`,
    `  holder=$(sed -n '1s/ .*//p' ${LOCK_FILE} 2>/dev/null); since=$(sed -n '1s/^[^ ]* //p' ${LOCK_FILE} 2>/dev/null)`,
    `  case "$holder" in *[!a-z0-9-]* | "") holder=unknown ;; esac`,
    `  case "$since" in *[!0-9]* | "") since=0 ;; esac`,
    // A launcher.pid that names no live launcher of that run (a dead one, a reused pid) frees the lock.
    `  HR=.offload/runs/$holder; offload_read_launcher "$HR"`,
    // Before its launch a holder is alive while its heartbeat is fresh (the sync and an env build can
    // take minutes; a dead offload stops beating).
    `  beat=$(cat "$HR/heartbeat" 2>/dev/null); case "$beat" in *[!0-9]* | "") beat=$since ;; esac`,
    // A run submitted to Slurm has no launcher: while squeue lists its job as active, it holds the lock.
    `  job=; [ -f "$HR/slurm-job" ] && read -r job < "$HR/slurm-job"; case "$job" in *[!0-9_+]*) job= ;; esac`,
    // Slurm knows an ended job a while (MinJobAge; squeue may not list it, scontrol does): one it says
    // ended (cancelled from outside, before its batch script could free the lock) frees the lock as its
    // end would have, with no reclaim to report. Any other state squeue lists holds the lock; no answer
    // proves nothing.
    `  slurm_ended=; if [ -n "$job" ]; then case "$(squeue -h -j "$job" -o %T 2>/dev/null)" in`,
    `    "") case "$(scontrol show job -o "$job" 2>/dev/null | sed -n 's/.* JobState=\\([A-Z_]*\\).*/\\1/p')" in`,
    `      ${SLURM_ENDED_STATES}) slurm_ended=1 ;; esac ;;`,
    `    ${SLURM_ENDED_STATES}) slurm_ended=1 ;; *) beat=$(date +%s) ;; esac; fi`,
    // Where the holder's offload runs (LockOrigin): said to a run that may prove it dead on its machine.
    `  origin=; [ -f "$HR/origin" ] && read -r origin < "$HR/origin"; case "$origin" in *[!0-9a-zA-Z/-]*) origin= ;; esac`,
    `  if [ -n "$slurm_ended" ]; then rm -f ${LOCK_FILE}`,
    `  elif [ -f "$HR/exit" ] || { [ -f "$HR/launcher.pid" ] && ! offload_launcher_alive; } || { [ ! -f "$HR/launcher.pid" ] && { [ $(($(date +%s) - beat)) -gt ${LOCK_STALE_SECONDS} ] || ${deadHolder(lock)}; }; }; then`,
    `    printf '${MARK.reclaimed} %s %s\\n' "$holder" "$since" >&2; rm -f ${LOCK_FILE}`,
    // --force: the displaced run's follower reads `displaced` and says who took over. A job not proven
    // to be that run's is not signalled, and then nothing is taken over.
    lock.force
      ? `  else { [ -d "$HR" ] && printf '%s\\n' ${id} > "$HR/displaced"; }; offload_stop "$HR" ${Math.max(0, Math.round(lock.graceSeconds))}
    if [ $? = 3 ]; then rm -f "$HR/displaced"; printf '${STOP_MARK} unproven %s\\n' "$offload_why" >&2; printf '${MARK.locked} %s %s\\n' "$holder" "$since" >&2; exit 3; fi
    started=; [ -f "$HR/launcher.pid" ] || [ -n "$job" ] || started=" ${UNLAUNCHED}"
    printf '${MARK.forced} %s %s%s\\n' "$holder" "$since" "$started" >&2; rm -f ${LOCK_FILE}`
      : // A holder with no launcher (and no Slurm job) has not started its job: say how long it has
        // been silent, by the host's clock, so a user can tell an offload killed mid-sync from a live one.
        `  else quiet=; [ -f "$HR/launcher.pid" ] || [ -n "$job" ] || quiet=" ${UNLAUNCHED}$(($(date +%s) - beat))\${origin:+ ${ORIGIN}$origin}"
    printf '${MARK.locked} %s %s%s\\n' "$holder" "$since" "$quiet" >&2; exit 3`,
    `  fi`,
    `  ${take} || { printf '${MARK.locked} %s\\n' "$(cat ${LOCK_FILE} 2>/dev/null)" >&2; exit 3; }`,
    `fi`,
    `mkdir -p ${run} || { rm -f ${LOCK_FILE}; ${unwritable(`$PWD/${remoteRunDir(lock.runId)}`)}; }`,
    // From here on the dir may change under this run (its sync, its job): an older run's download
    // must not take what is there for its own (latest-run.ts).
    buildRecordLatestRun(lock.runId),
    ...(lock.origin !== undefined && isLockOrigin(lock.origin)
      ? [`printf '%s\\n' ${quoteShell(lock.origin)} > ${run}/origin 2>/dev/null`]
      : []),
  ];
}

/**
 * A shell test: the holder is the one the caller proved dead (LockRequest.reclaim), not launched, not a
 * Slurm job, and its origin file unchanged. `false` without such a request.
 */
function deadHolder(lock: LockRequest): string {
  const reclaim = lock.reclaim;
  if (
    reclaim === undefined ||
    !isLockOrigin(reclaim.origin) ||
    !/^[a-z0-9-]+$/.test(reclaim.holder)
  )
    return "false";
  return `{ [ "$holder" = ${quoteShell(reclaim.holder)} ] && [ -z "$job" ] && [ "$origin" = ${quoteShell(reclaim.origin)} ]; }`;
}

/** Says which path could not be written (MARK.unwritable) and ends the script with status 1. */
function unwritable(path: string): string {
  return `printf '${MARK.unwritable} %s\\n' "${path}" >&2; exit 1`;
}

/**
 * Launch round-trip steps: go on only while this run still holds the lock. An offload that stalled
 * longer than LOCK_STALE_SECONDS between its sync and its launch may have lost it to another run, whose
 * files are then in the remote dir: starting would run them. MARK.locked names the holder now.
 */
export function buildCheckLockSteps(runId: string): string[] {
  return [
    `holder=; read -r holder _ < ${LOCK_FILE} 2>/dev/null`,
    `if [ "$holder" != ${quoteShell(runId)} ]; then`,
    `  printf '${MARK.locked} %s\\n' "$(cat ${LOCK_FILE} 2>/dev/null || echo unknown)" >&2; rm -rf "$R"; exit 3`,
    `fi`,
  ];
}

/** The heartbeat of a run that holds the lock and has not launched yet (atomic: tmp + rename). */
export function buildHeartbeatScript(remoteDir: string, runId: string): string {
  const run = quoteShell(remoteRunDir(runId));
  return `cd ${quoteShell(remoteDir)} && [ -d ${run} ] && date +%s > ${run}/heartbeat.tmp && mv -f ${run}/heartbeat.tmp ${run}/heartbeat`;
}

/**
 * Frees the lock of a run that failed before its launch, and its run dir; the lock only if this run holds
 * it, the run dir only if no launcher was recorded in it.
 */
export function buildReleaseLockScript(remoteDir: string, runId: string): string {
  const run = quoteShell(remoteRunDir(runId));
  return [
    `cd ${quoteShell(remoteDir)} || exit 0`,
    `[ -f ${run}/launcher.pid ] && exit 0`,
    buildReleaseLock(runId),
    `rm -rf ${run}`,
  ].join("\n");
}

/**
 * Seconds since the lock's holder last showed life (took the lock or beat), where the holder has not
 * launched its job: its offload is syncing or building the env, or died before its launch. Read from
 * the MARK.locked text `<run id> <epoch> unlaunched:<seconds>`; undefined for a launched holder.
 */
export function readUnlaunchedSeconds(locked: string): number | undefined {
  const field = locked.split(" ").find((word) => word.startsWith(UNLAUNCHED));
  const seconds = field?.slice(UNLAUNCHED.length);
  return seconds !== undefined && /^[0-9]+$/.test(seconds) ? Number(seconds) : undefined;
}

/** The origin (LockOrigin) a MARK.locked text gives for its unlaunched holder, where it gives one. */
export function readLockedOrigin(locked: string): LockOrigin | undefined {
  const field = locked.split(" ").find((word) => word.startsWith(ORIGIN));
  const origin = field?.slice(ORIGIN.length);
  return origin !== undefined && isLockOrigin(origin) ? origin : undefined;
}

/** A MARK.forced text whose holder had not launched its job: --force stopped nothing. */
export function isUnlaunchedHolder(forced: string): boolean {
  return forced.split(" ").some((word) => word.startsWith(UNLAUNCHED));
}

/** What the lock step of a prepare said: each `<run id> <epoch seconds>` of a holder, where it named one. */
export interface LockReply {
  /** The lock is held and was not taken; `unproven` says why a --force did not stop its holder. */
  locked?: string;
  unproven?: string;
  /** A holder that no longer ran, whose lock was taken over. */
  reclaimed?: string;
  /** A live holder that `--force` stopped. */
  forced?: string;
}

export function readLockReply(stderr: string): LockReply {
  const { locked, reclaimed, forced } = readMarkers(stderr);
  const unproven = readUnproven(stderr);
  return {
    ...(locked === undefined ? {} : { locked }),
    ...(unproven === undefined ? {} : { unproven }),
    ...(reclaimed === undefined ? {} : { reclaimed }),
    ...(forced === undefined ? {} : { forced }),
  };
}
