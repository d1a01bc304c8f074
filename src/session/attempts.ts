// A run's attempts (`retry:`): launch and follow; when the job failed or the host was lost (and the
// settings retry that), wait the backoff, put the last checkpoint back on the host and launch again with
// OFFLOAD_ATTEMPT and OFFLOAD_RESUME=1. Each attempt's log is kept; a stop (Ctrl+C, `offload stop`,
// --force by another run) is never retried.
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RetrySettings } from "../config/settings.js";
import { msSince, type RunContext, type RunControls } from "../context.js";
import { isOffloadError, OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import type { LaunchPlan } from "../remote/launch.js";
import { readMarkers } from "../remote/markers.js";
import { buildPutFileScript, buildRetryScript, buildStopRequestedScript } from "../remote/retry.js";
import type { RecordView, RunRecord } from "../runs/record.js";
import type { RecordFields, RecordWriter } from "../runs/record-writer.js";
import type { RunStore } from "../runs/store.js";
import { planDownloads } from "../sync/download-plan.js";
import { buildRsyncFilesArgv } from "../sync/rsync.js";
import type { SyncTool } from "../sync/upload.js";
import { sleep } from "../transport/backoff.js";
import { runProcess } from "../transport/process.js";
import type { Transport } from "../transport/types.js";
import { fetchObjectsToHost } from "./bucket.js";
import { startCheckpoints } from "./checkpoint.js";
import { completeRun } from "./complete.js";
import { lockedError } from "./lock.js";
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

/** `offload stop` from another terminal left its mark on the host: the job's end is a stop. */
async function wasStopped(request: AttemptsRequest): Promise<boolean> {
  const { transport } = request;
  const { record } = request.writer;
  const result = await transport.exec(buildStopRequestedScript(record.target.remoteDir, record.id));
  if (result.code !== 0 || result.connectionFailed) return false;
  await request.writer.update({
    stopRequested: true,
    ...(record.status === "failed" ? { status: "stopped" as const } : {}),
  });
  return true;
}

/** How an attempt ended, as the record keeps it once the next one starts. */
function attemptEntry(
  record: RecordView,
  attempt: number,
  log: string,
  message: string | undefined,
): NonNullable<RunRecord["attempts"]>[number] {
  return {
    attempt,
    status: record.status,
    exitCode: record.exitCode,
    finishedAt: record.finishedAt ?? new Date().toISOString(),
    log,
    ...(message ? { error: { code: "E_DISCONNECTED", message } } : {}),
  };
}

/** The record as a fresh attempt starts: the last one's end is in `attempts`. */
const FRESH_ATTEMPT: RecordFields = {
  status: "launching",
  exitCode: null,
  logBytes: 0,
  error: undefined,
  finishedAt: undefined,
  job: undefined,
  remote: undefined,
};

/**
 * On the host: stops what is left of the last attempt, keeps its run dir aside, takes the lock again; then
 * puts the last checkpoint back where the job wrote it (from home, or from the bucket).
 */
async function prepareNextAttempt(request: AttemptsRequest, attempt: number): Promise<void> {
  const { transport } = request;
  const { record } = request.writer;
  const remoteDir = record.target.remoteDir;
  const deadline = Date.now() + request.reconnectTimeoutSeconds * 1000;
  for (let tries = 1; ; tries++) {
    const result = await transport.exec(
      buildRetryScript(remoteDir, record.id, attempt, request.graceSeconds),
    );
    if (!result.connectionFailed) {
      const markers = readMarkers(result.stderr);
      if (markers.locked !== undefined) throw lockedError(transport, remoteDir, markers.locked);
      if (result.code !== 0)
        throw new OffloadError(
          "E_LAUNCH",
          `Could not prepare attempt ${attempt + 1} of run ${record.id} on ${transport.label}: ${result.stderr.trim()}`,
          { hint: "Check the remote dir is writable; `offload logs` shows the last attempt." },
        );
      break;
    }
    if (Date.now() > deadline) throw transport.explain(result);
    request.report({ type: "reconnecting", attempt: tries, delayMs: 2000, reason: "retry" });
    await sleep(2000, request.controls.stop);
  }
  await restoreCheckpoint(request);
}

/** Files the checkpoint rules brought home (or put in the bucket) go back to where the job wrote them. */
async function restoreCheckpoint(request: AttemptsRequest): Promise<void> {
  const { transport, store, report } = request;
  const { record } = request.writer;
  const rules = record.download.filter((rule) => rule.every || request.resultsEvery);
  if (rules.length === 0) return;
  const plan = planDownloads(rules);
  if (record.results) {
    const objects = record.results.objects.filter((o) => plan.globs.some((g) => g.match(o.path)));
    if (objects.length === 0) return;
    await fetchObjectsToHost(transport, record, objects);
    report({
      type: "checkpoint-restored",
      files: objects.length,
      from: "bucket",
      target: transport.label,
    });
    return;
  }
  const root = store.artifactsDir(record.id);
  const files = (await listArtifacts(root)).filter((path) => plan.globs.some((g) => g.match(path)));
  if (files.length === 0) return;
  await mkdir(root, { recursive: true });
  if (request.tool === "rsync") {
    const shell = transport.remoteShell();
    const argv = buildRsyncFilesArgv(shell, ".", shell.remotePath(record.target.remoteDir));
    const result = await runProcess(argv, {
      cwd: root,
      stdin: files.map((file) => `${file}\0`).join(""),
    });
    if (result.code !== 0) throw restoreError(transport, result.stderr);
  } else {
    // Without rsync each file goes as its bytes on stdin, into a temp file renamed into place.
    for (const file of files) {
      const result = await transport.exec(buildPutFileScript(record.target.remoteDir, file), {
        stdin: await readFile(join(root, file)),
      });
      if (result.code !== 0) throw restoreError(transport, result.stderr);
    }
  }
  report({
    type: "checkpoint-restored",
    files: files.length,
    from: "home",
    target: transport.label,
  });
}

function restoreError(transport: Transport, stderr: string): OffloadError {
  return new OffloadError(
    "E_SYNC",
    `Could not put the checkpoint back on ${transport.label}: ${stderr.trim()}`,
    {
      hint: "The last attempt's files are in .offload/runs/<id>/artifacts; check the host's disk.",
    },
  );
}

async function listArtifacts(root: string): Promise<string[]> {
  const names = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return names
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1));
}
