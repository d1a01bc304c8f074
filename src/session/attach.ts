// `offload attach` as a library call: resume a run's log from the last byte this machine has, then
// finish it as `run` would (exit code, downloads, run record).
import { jobRefOf } from "../backends/types.js";
import { msSince, type RunContext } from "../context.js";
import { OffloadError } from "../errors.js";
import type { RunRecord } from "../runs/record.js";
import { createRecordWriter, type RecordWriter } from "../runs/record-writer.js";
import { completeRun } from "./complete.js";
import { prepareTarget } from "./prepare.js";
import { trackProgress } from "./progress.js";
import { requireRunId } from "./run-id.js";

/** Enough of the log's end to hold the last header a framework printed (they repeat each epoch). */
const PRIME_BYTES = 256 * 1024;

export interface AttachRequest {
  runId: string;
  /** The run was stopped on request (`offload stop`): a non-zero end is recorded as stopped. */
  stopRequested?: boolean;
}

export async function attachRun(context: RunContext, request: AttachRequest): Promise<RunRecord> {
  const { transport, store, clock } = context;
  const started = clock.now();
  const writer = createRecordWriter(store, await store.load(request.runId));
  const { record } = writer;
  requireRunId(record.id);
  // The log so far primes the parsers (a YOLO header, a Keras epoch) without reporting it again.
  const run: RunContext = {
    ...context,
    report: trackProgress(context.report, store.runDir(record.id), {
      patterns: context.settings.progressPatterns ?? [],
      seen: await store.readLogTail(record.id, PRIME_BYTES),
    }),
  };
  const { report } = run;
  report({ type: "connecting", target: transport.label });
  const prepared = await prepareTarget(transport, record.target.remoteDir, "auto");
  report({ type: "connected", target: transport.label, ms: msSince(clock, started) });
  if (record.status === "launching") await settleLaunching(run, writer);
  const [offset, ended] = await Promise.all([store.logSize(record.id), hasEnded(run, record)]);
  report({
    type: "attached",
    runId: record.id,
    offset,
    stopping: request.stopRequested === true,
    ...(ended ? { ended: true as const } : {}),
  });
  // Saved with the follow's first save: an attach that fails before it leaves the record as it was.
  writer.set({ status: "running", ...(request.stopRequested ? { stopRequested: true } : {}) });
  return completeRun(run, { writer, tool: prepared.tool, started });
}

/**
 * Whether the job has already ended, so that attach does not offer Ctrl+C to leave a run that goes on.
 * A record still `running` asks the host (one round trip over the held connection); no answer: running.
 */
async function hasEnded(context: RunContext, record: RecordWriter["record"]): Promise<boolean> {
  if (record.status !== "running" && record.status !== "launching") return true;
  try {
    const surveyed = await context.backend.survey([jobRefOf(record)], { timeoutMs: 10_000 });
    return surveyed.get(record.id)?.state === "ended";
  } catch {
    return false;
  }
}

/**
 * A record left `launching` (offload was killed between saving it and the host's launched marker):
 * asks the host whether the job started. Started: the record is `running` again and can be followed.
 * Not started: the host has freed the lock, the record says so (status `error`) and E_LAUNCH explains.
 */
async function settleLaunching(context: RunContext, writer: RecordWriter): Promise<void> {
  const { transport } = context;
  const { record } = writer;
  const status = await context.backend.status(jobRefOf(record));
  if (status.state === "started") {
    await writer.update({ ...status.job, status: "running" });
    return;
  }
  const message = `Run ${record.id} never started: offload ended while launching it, and ${transport.label} confirms that nothing was started.`;
  await writer.update({
    status: "error",
    error: { code: "E_LAUNCH", message },
    finishedAt: context.clock.date().toISOString(),
  });
  throw new OffloadError("E_LAUNCH", message, { hint: "Run the command again." });
}
