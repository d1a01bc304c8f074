// The remote dir's lock as a run sees it: the refusal, the heartbeat between the sync and the launch, and
// the release when a run fails before it launched (src/remote/lock.ts builds the scripts).
import { OffloadError } from "../errors.js";
import {
  buildHeartbeatScript,
  buildReleaseLockScript,
  LOCK_HEARTBEAT_SECONDS,
  LOCK_STALE_SECONDS,
  readUnlaunchedSeconds,
} from "../remote/lock.js";
import type { Transport } from "../transport/types.js";

/** `<run id> <epoch seconds>` as read from the lock: the holder's run id and, if known, since when. */
export function parseHolder(holder: string): { holder: string; since?: string } {
  const [id = "unknown", epoch] = holder.split(" ");
  const seconds = Number(epoch);
  return Number.isFinite(seconds) && seconds > 0
    ? { holder: id, since: new Date(seconds * 1000).toISOString() }
    : { holder: id };
}

/** The lock's holder for people: its run, local time and how long ago it took the lock. */
export function describeHolder(holder: string, now: number = Date.now()): string {
  return describeLockHolder(parseHolder(holder), now);
}

export function describeLockHolder(
  lock: { holder: string; since?: string },
  now: number = Date.now(),
): string {
  const ms = lock.since === undefined ? Number.NaN : Date.parse(lock.since);
  return Number.isFinite(ms)
    ? `run ${lock.holder} (since ${formatLocalTime(ms)}, ${formatAgo(now - ms)})`
    : `run ${lock.holder}`;
}

/** `2026-12-01 18:32:10` in this machine's time zone: what a person compares with their clock. */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `40 s ago`, `12 min ago`, `3 h 5 min ago`, `2 days ago`. */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** E_LOCKED, naming the holder's run id: a job across nodes tells its own sibling from another run. */
export class RemoteDirLocked extends OffloadError {
  constructor(
    message: string,
    hint: string,
    readonly holderId: string,
  ) {
    super("E_LOCKED", message, { hint });
  }
}

/** E_LOCKED; `lost`: this run held the lock and lost it between its sync and its launch. */
export function lockedError(
  transport: Transport,
  remoteDir: string,
  holder: string,
  lost = false,
): OffloadError {
  const what = lost
    ? "this run lost the lock while it synced (it was stalled too long) and started nothing"
    : "nothing was changed there";
  const quiet = lost ? undefined : readUnlaunchedSeconds(holder);
  if (quiet !== undefined) return unlaunchedHolderError(transport, remoteDir, holder, quiet);
  const id = parseHolder(holder).holder;
  return new RemoteDirLocked(
    `${remoteDir} on ${transport.label} is in use by ${describeHolder(holder)}; ${what}.`,
    `Wait for it, follow it with \`offload attach ${id}\`, or stop it and take over with \`offload run --force\`.`,
    id,
  );
}

/**
 * E_LOCKED for a holder that never launched its job: an offload still syncing (it beats every
 * LOCK_HEARTBEAT_SECONDS), or one killed before its launch, which leaves no job to attach to and, often,
 * no record here. Says which, as far as the host can tell, and how the lock is freed.
 */
function unlaunchedHolderError(
  transport: Transport,
  remoteDir: string,
  holder: string,
  quietSeconds: number,
): OffloadError {
  const id = parseHolder(holder).holder;
  const left = Math.max(0, LOCK_STALE_SECONDS - quietSeconds);
  return new RemoteDirLocked(
    `${remoteDir} on ${transport.label} is in use by ${describeHolder(holder)}, which has not started its job: its offload is still syncing or building the environment, or was killed before the launch (last sign of life ${quietSeconds} s ago); nothing was changed there.`,
    `If no offload is running ${id} any more, its lock frees itself after ${LOCK_STALE_SECONDS} s without a sign of life (in about ${left} s): run again then, or now with \`offload run --force\` (it stops nothing, as that run started no job). There is no job to \`attach\` to.`,
    id,
  );
}

/** E_LOCKED for --force when the host could not prove which processes are the holder's job. */
export function forceRefusedError(
  transport: Transport,
  remoteDir: string,
  holder: string,
  why: string,
): OffloadError {
  return new OffloadError(
    "E_LOCKED",
    `${remoteDir} on ${transport.label} is in use by ${describeHolder(holder)}; --force did not signal it: ${why}. Nothing was stopped or changed.`,
    {
      hint: `Its pid file names no process offload can prove to be that run's job. Stop the job by hand on the host (its environment has OFFLOAD_RUN_ID=${holder.split(" ")[0]}), then run again.`,
    },
  );
}

/**
 * Beats every LOCK_HEARTBEAT_SECONDS until stopped, so the sync and an env build may take as long as they
 * take while another run can still tell a held lock from one whose offload died. Failures are ignored:
 * the launch checks that the lock is still held.
 */
export function keepLock(transport: Transport, remoteDir: string, runId: string): () => void {
  const script = buildHeartbeatScript(remoteDir, runId);
  let beating: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    beating = beating.then(() => transport.exec(script, { timeoutMs: 30_000 })).catch(() => {});
  }, LOCK_HEARTBEAT_SECONDS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Frees the lock and the run dir of a run that failed before its launch; best effort (a dead
 * connection leaves the lock to go stale). */
export async function releaseLock(
  transport: Transport,
  remoteDir: string,
  runId: string,
): Promise<void> {
  await transport
    .exec(buildReleaseLockScript(remoteDir, runId), { timeoutMs: 30_000 })
    .catch(() => {});
}
