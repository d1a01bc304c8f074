// The second half of a run, shared by `run` and `attach`: follow the log to the end (stopping the job
// on request), download the outputs, and record how it ended.

import { jobRefOf } from "../backends/types.js";
import { msSince, type RunContext } from "../context.js";
import { isOffloadError, OffloadError } from "../errors.js";
import { outputsFailed } from "../events.js";
import { jobDurationMs, type RecordView, type RunRecord, statusForExit } from "../runs/record.js";
import type { RecordFields, RecordWriter } from "../runs/record-writer.js";
import { planDownloads } from "../sync/download-plan.js";
import type { SyncTool } from "../sync/upload.js";
import { deliverResults } from "./bucket.js";
import { laterRunGuard } from "./download-guard.js";
import { fetchOutputs } from "./fetch-outputs.js";
import { hasOutputs, recordTimes } from "./record-end.js";
import { openSamples } from "./samples.js";
import { armStop } from "./stop-on-request.js";

export interface CompleteRequest {
  /** The run's record and its one writer. */
  writer: RecordWriter;
  tool: SyncTool;
  /** When the whole operation started (`context.clock.now()`), for the total time. */
  started: number;
}

/** A follow left with a stop under way says that the stop goes on: the job gets KILL if it outlives TERM. */
function leftDuringStop(error: unknown, record: RecordView, graceSeconds: number): unknown {
  if (!record.stopRequested || !isOffloadError(error) || error.code !== "E_INTERRUPTED")
    return error;
  return new OffloadError(
    "E_INTERRUPTED",
    `Stopped waiting for run ${record.id}. It is being stopped on the host all the same: TERM was sent, and KILL follows ${graceSeconds} s after it if the job still runs.`,
    {
      hint: `\`offload attach ${record.id}\` brings its log and outputs home and records how it ended.`,
    },
  );
}

/** How the follow's end reads in the record: exit code, status, who displaced the run. */
function endFields(record: RecordView, end: Exclude<FollowEnd, { kind: "missing" }>): RecordFields {
  if (end.kind !== "exit") return { status: "lost" };
  const displacedBy = end.displacedBy ? end.displacedBy : record.displacedBy;
  const stopped = record.stopRequested || end.cancelled || displacedBy !== undefined;
  return {
    exitCode: end.code,
    ...(end.displacedBy ? { displacedBy: end.displacedBy } : {}),
    status: stopped && end.code !== 0 ? "stopped" : statusForExit(end.code),
  };
}

type FollowEnd = Awaited<ReturnType<RunContext["backend"]["follow"]>>;

export async function completeRun(
  context: RunContext,
  request: CompleteRequest,
): Promise<RunRecord> {
  const { transport, store, report, controls, clock } = context;
  const { writer } = request;
  const { record } = writer;
  const sink = store.openLog(record.id);
  const samples = openSamples(store, record.id, report);
  const stop = armStop(context, writer);

  const runStart = clock.now();
  // The scheduler's word arrives while the follow runs: saved through the writer, in order; the last
  // one is awaited (saves are written in order, so it ends after every earlier one).
  let jobSaved: Promise<void> = Promise.resolve();
  let end: FollowEnd;
  try {
    end = await context.backend.follow(jobRefOf(record), {
      sink,
      samples,
      report,
      signal: controls.detach,
      onJob: (job) => {
        jobSaved = writer.update(job).catch(() => {});
      },
    });
  } catch (error) {
    // Leaving on purpose is no error of the run's: it goes on over there.
    const left = controls.detach?.aborted === true;
    writer.set({ logBytes: sink.size });
    if (isOffloadError(error) && !left)
      writer.set({ error: { code: error.code, message: error.message } });
    await writer.save();
    if (left) await stop.settled();
    throw leftDuringStop(error, record, context.settings.graceSeconds);
  } finally {
    sink.close();
    samples.close();
    stop.disarm();
    await jobSaved;
  }
  writer.set({ logBytes: sink.size });
  if (end.kind === "missing") {
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `Run ${record.id} is not in ${record.target.remoteDir} on ${transport.label} any more.`,
      {
        hint: `Its remote dir was removed or replaced; what this machine received is in \`offload logs ${record.id}\`.`,
      },
    );
  }
  writer.set({
    phases: { ...record.phases, run: (record.phases.run ?? 0) + msSince(clock, runStart) },
  });
  if (end.kind === "exit" && end.displacedBy)
    report({ type: "displaced", runId: record.id, by: end.displacedBy });
  writer.set({ ...endFields(record, end), error: undefined });
  writer.set(recordTimes(record, end.times));
  if (end.diskFull) {
    const message = `The file system of ${record.target.remoteDir} on ${transport.label} is full: the job's output, files and status may be cut short.`;
    writer.set({ error: { code: "E_DISK_FULL", message } });
    report({ type: "disk-full", remoteDir: record.target.remoteDir, target: transport.label });
  }
  // Saved before the outputs move: an offload killed during the download leaves a record that says the
  // job ended and its outputs are not home, not one that reads as done (`ps`, `attach` fetches them).
  // An attach to a run whose outputs came home before: what is home stays, whatever the fetch finds.
  const homeBefore = record.outputsPending !== true && record.phases.download !== undefined;
  if (hasOutputs(record)) await writer.update({ outputsPending: true });
  // With `results:` the outputs go from the host to the bucket, not through this machine.
  if (record.results) await deliverResults(transport, writer, report);
  else await downloadOutputs(context, request, homeBefore);
  // A download that failed leaves them pending: its error says why.
  if (record.error?.code !== "E_DOWNLOAD") writer.set({ outputsPending: undefined });
  const total = msSince(clock, request.started);
  writer.set({ phases: { ...record.phases, total } });
  await writer.save();
  report({
    type: "finished",
    runId: record.id,
    exitCode: record.exitCode,
    status: record.status,
    // The job's own time by the host's clock; the total (with sync) where the host has no stamps.
    ms: jobDurationMs(record) ?? total,
  });
  return writer.snapshot();
}

/**
 * Downloads (also after a failed run: its logs and partial results matter most). A failure is noted and
 * recorded (`error`, exit code 205 for a job that succeeded), never silent.
 */
export async function downloadOutputs(
  context: RunContext,
  request: CompleteRequest,
  homeBefore = false,
): Promise<void> {
  const { report, transport, store, clock } = context;
  const { writer } = request;
  const { record } = writer;
  const plan = planDownloads(record.download);
  if (plan.globs.length + plan.mapped.length === 0) return;
  const started = clock.now();
  report({ type: "downloading", rules: plan.globs.length + plan.mapped.length });
  // Where the job launched, by its physical path: not wherever the remote dir leads now.
  const remoteDir = record.remote?.realDir ?? record.target.remoteDir;
  try {
    const result = await fetchOutputs(
      {
        transport,
        remoteDir,
        physicalDir: record.remote?.realDir !== undefined,
        // Not from a dir another run has taken since this one: its files there may be that run's.
        guard: laterRunGuard(record.id, remoteDir, transport.label),
        plan,
        artifactsDir: store.artifactsDir(record.id),
        projectDir: context.projectDir,
        tool: request.tool,
        onProgress: (progress) => report({ type: "transfer", direction: "download", ...progress }),
      },
      {
        report,
        reconnectTimeoutMs: context.settings.reconnectTimeoutSeconds * 1000,
        runId: record.id,
        signal: context.controls.detach,
      },
    );
    const ms = msSince(clock, started);
    writer.set({
      artifacts: result.artifacts,
      mappedFiles: result.mappedFiles,
      phases: { ...record.phases, download: ms },
    });
    report({
      type: "downloaded",
      files: result.artifacts.length,
      missing: result.missing,
      skipped: result.skipped,
      ms,
    });
  } catch (error) {
    if (!isOffloadError(error)) throw error;
    // Whatever failed, the outputs are not home: recorded as a download failure for ps and exit codes.
    // Unless they came home before and another run has used the dir since: they are home, its own.
    if (error.code !== "E_DIR_REUSED" || !homeBefore)
      writer.set({ error: { code: "E_DOWNLOAD", message: error.message } });
    report(outputsFailed(error));
  }
}
