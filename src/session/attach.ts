// `offload attach` as a library call: resume a run's log from the last byte this machine has, then
// finish it as `run` would (exit code, downloads, run record).
import type { Reporter } from "../events.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import type { Transport } from "../transport/types.js";
import { completeRun, type RunControls } from "./complete.js";
import { settleLaunching } from "./launch.js";
import { prepareTarget } from "./prepare.js";
import { trackProgress } from "./progress.js";
import { requireRunId } from "./run-id.js";
import { completeSlurmRun } from "./slurm.js";

/** Enough of the log's end to hold the last header a framework printed (they repeat each epoch). */
const PRIME_BYTES = 256 * 1024;

export interface AttachRequest {
  transport: Transport;
  store: RunStore;
  projectDir: string;
  runId: string;
  report: Reporter;
  reconnectTimeoutSeconds: number;
  graceSeconds: number;
  controls?: RunControls;
  /** The run was stopped on request (`offload stop`): a non-zero end is recorded as stopped. */
  stopRequested?: boolean;
  /** `progress.patterns`: the user's regexes, read from the log beside the built-in parsers. */
  progressPatterns?: readonly string[];
}

export async function attachRun(request: AttachRequest): Promise<RunRecord> {
  const { transport, store } = request;
  const started = performance.now();
  const record = await store.load(request.runId);
  requireRunId(record.id);
  // The log so far primes the parsers (a YOLO header, a Keras epoch) without reporting it again.
  const report = trackProgress(request.report, store.runDir(record.id), {
    patterns: request.progressPatterns ?? [],
    seen: await store.readLogTail(record.id, PRIME_BYTES),
  });
  report({ type: "connecting", target: transport.label });
  const prepared = await prepareTarget(transport, record.target.remoteDir, "auto");
  report({
    type: "connected",
    target: transport.label,
    ms: Math.round(performance.now() - started),
  });
  if (record.slurm !== undefined) {
    report({
      type: "notice",
      message: `attached to run ${record.id} (Slurm job ${record.slurm.jobId}) at byte ${await store.logSize(record.id)} of its log`,
    });
    record.status = "running";
    if (request.stopRequested) record.stopRequested = true;
    return completeSlurmRun({
      ...{ transport, store, record, projectDir: request.projectDir, report, started },
      ...{ tool: prepared.tool, reconnectTimeoutSeconds: request.reconnectTimeoutSeconds },
      ...{ graceSeconds: request.graceSeconds, controls: request.controls ?? {} },
    });
  }
  if (record.status === "launching") await settleLaunching(transport, store, record);
  const offset = await store.logSize(record.id);
  report({
    type: "notice",
    message: request.stopRequested
      ? `attached to run ${record.id}; the log resumes at byte ${offset}`
      : `attached to run ${record.id} at byte ${offset} of its log; Ctrl+C stops watching (the run goes on), \`offload stop ${record.id}\` stops it`,
  });
  record.status = "running";
  if (request.stopRequested) record.stopRequested = true;
  return completeRun({
    transport,
    store,
    record,
    projectDir: request.projectDir,
    tool: prepared.tool,
    report,
    reconnectTimeoutSeconds: request.reconnectTimeoutSeconds,
    graceSeconds: request.graceSeconds,
    controls: request.controls ?? {},
    started,
  });
}
