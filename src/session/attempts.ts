// A run's attempts (`retry:`): launch and follow; when the job failed or the host was lost (and the
// settings retry that), wait the backoff, put the last checkpoint back on the host and launch again with
// OFFLOAD_ATTEMPT and OFFLOAD_RESUME=1. Each attempt's log is kept; a stop (Ctrl+C, `offload stop`,
// --force by another run) is never retried.
import type { RetrySettings } from "../config/settings.js";
import { msSince, type RunContext, type RunControls } from "../context.js";
import { isOffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import type { LaunchPlan } from "../remote/launch.js";
import type { RunRecord } from "../runs/record.js";
import type { RecordWriter } from "../runs/record-writer.js";
import type { RunStore } from "../runs/store.js";
import type { SyncTool } from "../sync/upload.js";
import { sleep } from "../transport/backoff.js";
import type { Transport } from "../transport/types.js";
import { attemptEntry, FRESH_ATTEMPT } from "./attempt-entry.js";
import { startCheckpoints } from "./checkpoint.js";
import { completeRun } from "./complete.js";
import { restoreCheckpoint } from "./restore-checkpoint.js";
import { prepareNextAttempt, wasStopped } from "./retry-host.js";
import { launchRun } from "./start-job.js";

export interface AttemptsRequest {
  /** The run's context; the fields below restate parts of it for the retry and checkpoint phases. */
  context: RunContext;
  transport: Transport;
  store: RunStore;
  /** The run's record and its one writer: every save of the run goes through it. */
  writer: RecordWriter;
  plan: LaunchPlan;
  stdin: string;
  report: Reporter;
  projectDir: string;
  tool: SyncTool;
  reconnectTimeoutSeconds: number;
  graceSeconds: number;
  controls: RunControls;
  started: number;
  noWait: boolean;
  retry: RetrySettings;
  resultsEvery?: number | undefined;
  onLaunched: () => void;
  /** The first attempt made here: above 1 on a fresh host after a lost one (its checkpoint goes back first). */
  firstAttempt?: number;
  /** A lost host is not retried here: the run moves to a fresh one (HostSource `freshOnLoss`). */
  freshHostOnLoss?: boolean;
}

/** Thrown when an attempt lost its host and the next one goes to a fresh host: the record so far. */
export class HostLost extends Error {
  constructor(
    readonly record: RunRecord,
    readonly nextAttempt: number,
  ) {
    super(`attempt ${nextAttempt - 1} of run ${record.id} lost its host`);
  }
}

type Outcome = { record: RunRecord } | { error: unknown; lost: boolean };

/** Why this attempt would be retried ("failed", "lost"), or undefined when it ends the run. */
function retryReason(outcome: Outcome, request: AttemptsRequest): "failed" | "lost" | undefined {
  const { controls } = request;
  const { record } = request.writer;
  if (
    record.stopRequested ||
    record.displacedBy ||
    controls.stop?.aborted ||
    controls.detach?.aborted
  )
    return undefined;
  if ("error" in outcome) return outcome.lost ? "lost" : undefined;
  if (outcome.record.status === "failed") return "failed";
  if (outcome.record.status === "lost") return "lost";
  return undefined;
}

async function runOneAttempt(request: AttemptsRequest, attempt: number): Promise<Outcome> {
  const { record } = request.writer;
  const retrying = request.retry.attempts > 1;
  const env = retrying
    ? {
        ...request.plan.env,
        OFFLOAD_ATTEMPT: String(attempt),
        ...(attempt > 1 ? { OFFLOAD_RESUME: "1" } : {}),
      }
    : request.plan.env;
  const checkpoints = request.noWait
    ? undefined
    : startCheckpoints({ ...request, resultsEvery: request.resultsEvery });
  try {
    const { clock } = request.context;
    const launchStart = clock.now();
    await launchRun(
      request.context,
      request.writer,
      { plan: { ...request.plan, env }, stdin: request.stdin },
      request.onLaunched,
    );
    await request.writer.update({
      status: "running",
      phases: { ...record.phases, run: msSince(clock, launchStart) - (record.phases.launch ?? 0) },
    });
    if (request.noWait) return { record: request.writer.snapshot() };
    const done = await completeRun(request.context, {
      writer: request.writer,
      tool: request.tool,
      started: request.started,
    });
    return { record: done };
  } catch (error) {
    // The host stayed unreachable past the reconnect timeout: the attempt is lost, not the run.
    const lost =
      isOffloadError(error) && error.code === "E_DISCONNECTED" && record.status === "running";
    return { error, lost };
  } finally {
    await checkpoints?.stop();
  }
}

/** Launches, follows and, as `retry:` says, launches again; returns the record of the last attempt. */
export async function runAttempts(request: AttemptsRequest): Promise<RunRecord> {
  const { store, report, retry } = request;
  const { record } = request.writer;
  const first = request.firstAttempt ?? 1;
  if (first > 1) await restoreCheckpoint(request);
  for (let attempt = first; ; attempt++) {
    // Saved with the attempt's launch.
    if (retry.attempts > 1) request.writer.set({ attempt });
    const outcome = await runOneAttempt(request, attempt);
    let why = retryReason(outcome, request);
    if (why === "failed" && (await wasStopped(request))) why = undefined;
    if (why === undefined || !retry.on.includes(why) || attempt >= retry.attempts) {
      if ("error" in outcome) throw outcome.error;
      return outcome.record;
    }
    const message =
      "error" in outcome && outcome.error instanceof Error ? outcome.error.message : undefined;
    if (why === "lost")
      request.writer.set({ status: "lost", finishedAt: new Date().toISOString() });
    const log = await store.archiveLog(record.id, attempt);
    await request.writer.update({
      attempts: [...(record.attempts ?? []), attemptEntry(record, attempt, log, message)],
      ...FRESH_ATTEMPT,
    });
    report({
      type: "retrying",
      attempt,
      attempts: retry.attempts,
      why,
      backoffSeconds: retry.backoffSeconds,
      log,
    });
    await sleep(retry.backoffSeconds * 1000, request.controls.stop);
    if (request.controls.stop?.aborted) {
      await request.writer.update({ status: "stopped" });
      return request.writer.snapshot();
    }
    if (why === "lost" && request.freshHostOnLoss)
      throw new HostLost(request.writer.snapshot(), attempt + 1);
    await prepareNextAttempt(request, attempt);
  }
}
