// A run on a Slurm cluster (a target with `slurm:`): after the same connect, sync and env build as any
// run (at the login node, whose file system the compute nodes share), the job is submitted with sbatch
// instead of started, its output followed by byte offset while Slurm queues and runs it, cancelled
// with scancel on request, and its end read from Slurm itself (src/backends/slurm/ does the talking).
import { SlurmBackend } from "../backends/slurm/backend.js";
import { exitCodeOf } from "../backends/slurm/parse.js";
import {
  isActiveState,
  type SlurmJobRef,
  type SlurmJobSpec,
  type SlurmJobStatus,
} from "../backends/slurm/types.js";
import { msSince, type RunContext } from "../context.js";
import { isOffloadError, OffloadError } from "../errors.js";
import type { RunEvent } from "../events.js";
import type { RunRecord } from "../runs/record.js";
import type { Transport } from "../transport/types.js";
import { reconnectDelayMs, sleep } from "./backoff.js";
import { type CompleteRequest, downloadOutputs, recordTimes } from "./complete.js";
import { LEFT_BY } from "./follow.js";

/** How long a stop waits for the job to leave the queue (Slurm sends KILL after its KillWait). */
const CANCEL_WAIT_SECONDS = 120;

/** Errors of a connection (not of Slurm): the follow reconnects and resumes from the bytes it has. */
const CONNECTION_CODES = new Set(["E_HOST_UNREACHABLE", "E_SSH", "E_DISCONNECTED"]);

/** What runs in the batch script besides the command: the run's env, activation, startup/shutdown. */
export interface SlurmSubmission {
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  workdir: string;
  startup: readonly string[];
  shutdown: readonly string[];
  /** Lines that activate the run's Python env (built once on the login node's shared file system). */
  activate: readonly string[];
  slurm: SlurmJobSpec;
}

/** Secrets reach a job through a 0600 file the launcher reads; a batch job has no such launcher yet. */
export function checkSlurmRun(secretNames: readonly string[], label: string): void {
  if (secretNames.length === 0) return;
  throw new OffloadError(
    "E_USAGE",
    `--secret is not supported on the Slurm target ${label}: nothing was submitted.`,
    {
      hint: "Give the job its credentials through the cluster's own means (a file in your home there), or run on an SSH host.",
    },
  );
}

/** Submits the job; the record gets its id (saved) before anything else can fail. */
export async function submitSlurmJob(
  context: RunContext,
  record: RunRecord,
  submission: SlurmSubmission,
): Promise<SlurmJobRef> {
  const { transport, store, report, clock } = context;
  const launchStart = clock.now();
  const submitting = new SlurmBackend(transport).launch({
    runId: record.id,
    remoteDir: record.target.remoteDir,
    command: submission.command,
    env: submission.env,
    workdir: submission.workdir,
    // A failing startup command ends the batch script with its code, as it skips the job elsewhere.
    setupLines: [
      ...(submission.startup.length > 0 ? ["set -e", ...submission.startup, "set +e"] : []),
      ...submission.activate,
    ],
    shutdownLines: submission.shutdown.map((command) => `( ${command}\n) || true`),
    slurm: submission.slurm,
  });
  const ref = await submitting.catch(async (error: unknown) => {
    // Slurm refused it (or the script never arrived whole): nothing runs, a record would only shadow
    // the latest real run. A lost connection keeps it: the job may have been submitted.
    if (isOffloadError(error) && error.code === "E_LAUNCH") await store.remove(record.id);
    throw error;
  });
  record.slurm = { jobId: ref.jobId };
  record.phases.launch = msSince(clock, launchStart);
  record.status = "running";
  await store.save(record);
  report({
    type: "launched",
    runId: record.id,
    remoteDir: record.target.remoteDir,
    ms: record.phases.launch,
  });
  report({ type: "slurm-submitted", jobId: ref.jobId });
  return ref;
}

/** A job's state as reported: `PENDING` with its reason, `RUNNING` with its nodes. */
function slurmStateEvent(status: SlurmJobStatus): RunEvent {
  return {
    type: "slurm-state",
    jobId: status.jobId,
    state: status.state,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.nodes === undefined ? {} : { nodes: status.nodes }),
  };
}

/** scancel, waiting until the job has left the queue; returns its state then. */
export async function stopSlurmJob(transport: Transport, jobId: string): Promise<SlurmJobStatus> {
  return new SlurmBackend(transport).stop(jobId, CANCEL_WAIT_SECONDS);
}

/** `offload stop` of a Slurm run: scancel, then what became of the job (as stopRemoteRun says it). */
export async function stopSlurmRun(
  transport: Transport,
  record: RunRecord,
): Promise<"stopped" | "already-ended" | "pending"> {
  const jobId = record.slurm?.jobId;
  if (jobId === undefined) throw new Error(`run ${record.id} has no Slurm job`);
  const status = await stopSlurmJob(transport, jobId);
  if (isActiveState(status.state)) return "pending";
  return status.state === "CANCELLED" ? "stopped" : "already-ended";
}

/** Cancels the job once `signal` aborts (the first Ctrl+C); the follow goes on to see it end. */
function armCancel(context: RunContext, record: RunRecord, jobId: string): () => void {
  const { report, transport } = context;
  const signal = context.controls.stop;
  const onStop = () => {
    if (record.stopRequested) return;
    record.stopRequested = true;
    report({ type: "slurm-cancelling", jobId });
    stopSlurmJob(transport, jobId).catch((error: unknown) => {
      report({
        type: "slurm-cancel-failed",
        jobId,
        reason: error instanceof Error ? error.message : String(error),
      });
    });
  };
  if (signal?.aborted) onStop();
  else signal?.addEventListener("abort", onStop, { once: true });
  return () => signal?.removeEventListener("abort", onStop);
}

function leftError(
  record: RunRecord,
  jobId: string,
  signal: AbortSignal | undefined,
): OffloadError {
  const hint = `\`offload attach ${record.id}\` follows it again; \`offload stop ${record.id}\` cancels it.`;
  if (signal?.reason === LEFT_BY.outputClosed)
    return new OffloadError(
      "E_OUTPUT_CLOSED",
      `Standard output was closed: stopped following run ${record.id} (Slurm job ${jobId}), which goes on.`,
      { hint },
    );
  const going = record.stopRequested ? "; its cancel goes on" : ", which goes on";
  return new OffloadError(
    "E_INTERRUPTED",
    `Stopped following run ${record.id} (Slurm job ${jobId})${going}.`,
    { hint },
  );
}

/**
 * Follows the job's output from the bytes this machine has until Slurm says it ended, reconnecting
 * after a lost connection (each outage gets the reconnect timeout); returns the final status.
 */
async function followJob(
  context: RunContext,
  record: RunRecord,
  ref: SlurmJobRef,
): Promise<SlurmJobStatus> {
  const { transport, store, report } = context;
  const { reconnectTimeoutSeconds } = context.settings;
  const backend = new SlurmBackend(transport);
  const detach = context.controls.detach;
  const sink = store.openLog(record.id);
  let outage: { attempt: number; deadline: number } | undefined;
  try {
    for (;;) {
      if (detach?.aborted) throw leftError(record, ref.jobId, detach);
      const from = sink.size;
      try {
        const result = await backend.follow(ref, from, {
          onOutput: (chunk) => {
            sink.write(chunk);
            report({ type: "output", data: chunk });
          },
          onState: (status) => {
            record.slurm = { jobId: ref.jobId, ...stateOf(status) };
            report(slurmStateEvent(status));
            void store.save(record).catch(() => {});
          },
          onUnreachable: (message) => report({ type: "slurm-unreachable", reason: message }),
          ...(detach === undefined ? {} : { signal: detach }),
        });
        if (outage !== undefined)
          report({ type: "reconnected", attempt: outage.attempt, offset: from });
        if (result.final !== undefined) return result.final;
        if (detach?.aborted) throw leftError(record, ref.jobId, detach);
        throw new OffloadError("E_SLURM", `The follow of Slurm job ${ref.jobId} ended early.`);
      } catch (error) {
        if (!isOffloadError(error) || !CONNECTION_CODES.has(error.code)) throw error;
        outage ??= { attempt: 0, deadline: Date.now() + reconnectTimeoutSeconds * 1000 };
        outage.attempt += 1;
        if (Date.now() > outage.deadline)
          throw new OffloadError(
            "E_DISCONNECTED",
            `Lost the connection to ${transport.label} and could not get it back within ${reconnectTimeoutSeconds} s.`,
            {
              hint: `Slurm job ${ref.jobId} goes on. \`offload attach ${record.id}\` resumes its log from byte ${sink.size}.`,
            },
          );
        const delayMs = reconnectDelayMs(outage.attempt);
        report({ type: "reconnecting", attempt: outage.attempt, delayMs, reason: error.message });
        await sleep(delayMs, detach);
      }
    }
  } finally {
    record.logBytes = sink.size;
    sink.close();
  }
}

function stateOf(status: SlurmJobStatus): Omit<NonNullable<RunRecord["slurm"]>, "jobId"> {
  return {
    state: status.state,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.nodes === undefined ? {} : { nodes: status.nodes }),
  };
}

/** The run's status from how Slurm says the job ended. */
function statusOf(record: RunRecord, final: SlurmJobStatus, code: number | undefined) {
  if (code === undefined) return "lost" as const;
  if (code === 0) return "succeeded" as const;
  return record.stopRequested && final.state === "CANCELLED" ? "stopped" : "failed";
}

/** The second half of a Slurm run, shared by `run` and `attach`: follow, cancel on request, record. */
export async function completeSlurmRun(
  context: RunContext,
  request: CompleteRequest,
): Promise<RunRecord> {
  const { store, report, clock } = context;
  const { record } = request;
  const jobId = record.slurm?.jobId;
  if (jobId === undefined) throw new Error(`run ${record.id} has no Slurm job`);
  const ref: SlurmJobRef = { jobId, remoteDir: record.target.remoteDir, runId: record.id };
  const disarm = armCancel(context, record, jobId);
  const runStart = clock.now();
  let final: SlurmJobStatus;
  try {
    final = await followJob(context, record, ref);
  } catch (error) {
    const left = context.controls.detach?.aborted === true;
    if (isOffloadError(error) && !left) record.error = { code: error.code, message: error.message };
    await store.save(record);
    throw error;
  } finally {
    disarm();
  }
  record.phases.run = (record.phases.run ?? 0) + msSince(clock, runStart);
  const code = exitCodeOf(final);
  record.slurm = { jobId, ...stateOf(final) };
  record.exitCode = code ?? null;
  record.status = statusOf(record, final, code);
  // Frees the remote dir's lock where the batch script never got to its end (cancel, time limit, OOM).
  if (code !== undefined) await new SlurmBackend(context.transport).markEnded(ref, code);
  recordTimes(record, undefined);
  delete record.error;
  report(slurmStateEvent(final));
  await downloadOutputs(context, request);
  record.phases.total = msSince(clock, request.started);
  await store.save(record);
  report({
    type: "finished",
    runId: record.id,
    exitCode: record.exitCode,
    status: record.status,
    ms: record.phases.run,
  });
  return record;
}
