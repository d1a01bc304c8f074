// SlurmClient: Slurm's commands at a login node over a Transport, one round trip each. The caller has
// synced the workspace to the login node's shared file system; this submits, follows the job's output
// file by byte offset, cancels and asks Slurm how the job ended. SlurmBackend (backend.ts) is the run
// seen through the Backend seam on top of it.
import { OffloadError } from "../../errors.js";
import type { ExecResult, Transport } from "../../transport/types.js";
import { type ArrayTaskPlan, buildArraySubmitScript } from "./array.js";
import { firstLine, missingRunDir, submitError } from "./client-errors.js";
import { JOB_ID_PATTERN, SLURM_MARK } from "./markers.js";
import { lastStatus, parseMarker, parseMarkers, type SlurmMarker } from "./parse.js";
import {
  buildCancelScript,
  buildEndScript,
  buildFindScript,
  buildFollowScript,
  buildStatusScript,
  buildSubmitScript,
} from "./scripts.js";
import type { SlurmJobRef, SlurmJobStatus, SlurmPlan } from "./types.js";

export interface SlurmFollowOptions {
  /** Log bytes as they come, from the offset on. */
  onOutput?: (chunk: Buffer) => void;
  /** Each new state while the job is queued or running (PENDING with its reason, RUNNING with nodes). */
  onState?: (status: SlurmJobStatus) => void;
  /** squeue failed (the controller did not answer); the follow keeps waiting. */
  onUnreachable?: (message: string) => void;
  /** Aborting leaves the follow (the job goes on); the result then has no `final`. */
  signal?: AbortSignal;
}

export interface SlurmFollowResult {
  /** The byte offset the next follow starts from: the one given plus the bytes delivered. */
  offset: number;
  /** How the job ended; undefined when the follow was left before that. */
  final?: SlurmJobStatus;
}

export class SlurmClient {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Submits the run's batch script with `sbatch --parsable`; the job id is also kept in the run dir. */
  async launch(plan: SlurmPlan): Promise<SlurmJobRef> {
    const { script, stdin } = buildSubmitScript(plan);
    const result = await this.#exec(script, { stdin });
    const markers = parseMarkers("", result.stderr);
    const jobId = markers.flatMap((m) => (m.kind === "job" ? [m.jobId] : [])).at(-1);
    if (result.code === 0 && jobId !== undefined && JOB_ID_PATTERN.test(jobId)) {
      return { jobId, remoteDir: plan.remoteDir, runId: plan.runId };
    }
    throw submitError(this.#transport.label, result, markers);
  }

  /** Submits a sweep's runs as one job array; task i's job id is `<array>_<i>`. */
  async launchArray(
    name: string,
    spec: SlurmPlan["slurm"],
    tasks: readonly ArrayTaskPlan[],
  ): Promise<Map<number, SlurmJobRef>> {
    const { script, stdin } = buildArraySubmitScript(name, spec, tasks);
    const result = await this.#exec(script, { stdin });
    const markers = parseMarkers("", result.stderr);
    const arrayId = markers.flatMap((m) => (m.kind === "job" ? [m.jobId] : [])).at(-1);
    if (result.code === 0 && arrayId !== undefined && /^[0-9]+$/.test(arrayId))
      return new Map(
        tasks.map(({ index, plan }) => [
          index,
          { jobId: `${arrayId}_${index}`, remoteDir: plan.remoteDir, runId: plan.runId },
        ]),
      );
    throw submitError(this.#transport.label, result, markers);
  }

  /**
   * The job a run submitted, read from its run dir on the login node (an earlier offload may have
   * submitted it); undefined when the run dir holds no job id.
   */
  async find(remoteDir: string, runId: string): Promise<SlurmJobRef | undefined> {
    const result = await this.#exec(buildFindScript(remoteDir, runId));
    if (result.code !== 0) throw missingRunDir({ jobId: "(unknown)", remoteDir, runId }, result);
    const jobId = parseMarkers("", result.stderr)
      .flatMap((m) => (m.kind === "job" ? [m.jobId] : []))
      .at(-1);
    return jobId !== undefined && JOB_ID_PATTERN.test(jobId)
      ? { jobId, remoteDir, runId }
      : undefined;
  }

  /** Streams the job's output from `offset` until the job has ended and its file is drained. */
  async follow(
    ref: SlurmJobRef,
    offset: number,
    options: SlurmFollowOptions = {},
  ): Promise<SlurmFollowResult> {
    let delivered = offset;
    const markers: SlurmMarker[] = [];
    const lines = splitLines((line) => {
      const marker = parseMarker(ref.jobId, line);
      if (marker === undefined) return;
      markers.push(marker);
      if (marker.kind === "status" && marker.status.source === "squeue") {
        options.onState?.(marker.status);
      }
      if (marker.kind === "unreachable") options.onUnreachable?.(marker.message);
    });
    const result = await this.#exec(buildFollowScript(ref, offset), {
      onStdout: (chunk) => {
        delivered += chunk.length;
        options.onOutput?.(chunk);
      },
      onStderr: lines,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    lines(Buffer.from("\n"));
    if (options.signal?.aborted) return { offset: delivered };
    if (result.code !== 0) throw missingRunDir(ref, result);
    const final = lastStatus(
      markers.filter((m) => m.kind !== "status" || m.status.source !== "squeue"),
    );
    return final === undefined ? { offset: delivered } : { offset: delivered, final };
  }

  /** `scancel`, then waits (up to `waitSeconds`) for the job to leave the queue; returns its state. */
  async stop(jobId: string, waitSeconds = 120): Promise<SlurmJobStatus> {
    const status = await this.cancel(jobId, waitSeconds);
    if (status === undefined)
      throw new Error("a cancel with no signal to leave on waits to the end");
    return status;
  }

  /** `stop` that `signal` leaves once scancel has been sent (undefined then: the job is on its way out). */
  async cancel(
    jobId: string,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<SlurmJobStatus | undefined> {
    const leave = leaveOnceSent(signal);
    const result = await this.#exec(buildCancelScript(jobId, waitSeconds), {
      onStderr: leave.watch,
      signal: leave.signal,
    }).finally(leave.release);
    if (leave.signal.aborted) {
      if (leave.sent()) return undefined;
      throw new OffloadError(
        "E_INTERRUPTED",
        `The cancel of Slurm job ${jobId} did not reach ${this.#transport.label} before offload left: the job may still run.`,
        { hint: `\`scancel ${jobId}\` on the login node cancels it.` },
      );
    }
    const status = lastStatus(parseMarkers(jobId, result.stderr));
    if (result.code === 0 && status !== undefined) return status;
    throw new OffloadError(
      "E_STOP_REFUSED",
      `Slurm refused to cancel job ${jobId} on ${this.#transport.label}: ${firstLine(result.stderr)}`,
      {
        hint: `Check the job with \`squeue -j ${jobId}\` on the login node; cancel it there with \`scancel ${jobId}\`.`,
      },
    );
  }

  /** Marks the run ended in its run dir (see buildEndScript); best effort, the record is what counts. */
  async markEnded(ref: SlurmJobRef, code: number): Promise<void> {
    await this.#transport.exec(buildEndScript(ref, code), { timeoutMs: 30_000 }).catch(() => {});
  }

  /** What Slurm says of the job now: queued/running from squeue, or how it ended. */
  async status(jobId: string): Promise<SlurmJobStatus> {
    const result = await this.#exec(buildStatusScript(jobId));
    const markers = parseMarkers(jobId, result.stderr);
    const status = lastStatus(markers);
    if (result.code === 0 && status !== undefined) return status;
    const unreachable = markers.find((m) => m.kind === "unreachable");
    throw new OffloadError(
      "E_SLURM",
      `Slurm on ${this.#transport.label} did not answer about job ${jobId}: ${unreachable?.kind === "unreachable" ? unreachable.message : firstLine(result.stderr)}`,
      {
        hint: "The controller may be down or restarting: try again in a minute (`sinfo` on the login node shows it).",
      },
    );
  }

  async #exec(script: string, options: Parameters<Transport["exec"]>[1] = {}): Promise<ExecResult> {
    const result = await this.#transport.exec(script, options);
    if (result.connectionFailed && !options.signal?.aborted) throw this.#transport.explain(result);
    return result;
  }
}

/** How long a leave waits for scancel to have been sent before it cuts the cancel off anyway. */
const SENT_WAIT_MS = 15_000;

/**
 * Leaving (the second Ctrl+C) kills the cancel's ssh client; the script ignores the hang-up, but scancel
 * must have run first. So a leave waits for the script's line saying so (bounded) and only then goes.
 */
function leaveOnceSent(signal: AbortSignal | undefined) {
  const client = new AbortController();
  let sent = false;
  let seen = "";
  let timer: NodeJS.Timeout | undefined;
  const onLeave = () => {
    if (sent) client.abort();
    else timer = setTimeout(() => client.abort(), SENT_WAIT_MS);
  };
  if (signal?.aborted) onLeave();
  else signal?.addEventListener("abort", onLeave, { once: true });
  return {
    signal: client.signal,
    sent: () => sent,
    watch: (chunk: Buffer) => {
      if (sent) return;
      seen += chunk.toString("utf8");
      if (!seen.split("\n").includes(SLURM_MARK.cancelSent)) return;
      sent = true;
      if (signal?.aborted) client.abort();
    },
    release: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onLeave);
    },
  };
}

/** Calls `onLine` for each complete line of a stream of chunks; a final "\n" flushes the rest. */
function splitLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk.toString("utf8");
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const line of parts) onLine(line.replace(/\r$/, ""));
  };
}
