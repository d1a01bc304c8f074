// SlurmBackend: a run on a Slurm cluster (a target with `slurm:`) through the Backend seam. offload has
// connected, synced and built the env at the login node, whose file system the compute nodes share, as
// for any run; the job is then submitted with sbatch instead of started, its output followed by byte
// offset while Slurm queues and runs it (PENDING with its reason, RUNNING on its nodes), cancelled with
// scancel, and its end read from Slurm itself. SlurmClient (client.ts) does the talking.
import { isOffloadError, OffloadError } from "../../errors.js";
import type { Transport } from "../../transport/types.js";
import type {
  ArrayTask,
  Backend,
  FollowIo,
  JobLaunch,
  JobRecord,
  JobRef,
  JobStatus,
  JobSurvey,
  LaunchIo,
  LaunchOutcome,
  RunEnd,
  StopOptions,
  StopOutcome,
} from "../types.js";
import { SlurmClient } from "./client.js";
import { followSlurmJob, recordOf, stateEvent } from "./follow.js";
import { exitCodeOf } from "./parse.js";
import {
  isActiveState,
  type SlurmJobRef,
  type SlurmJobSpec,
  type SlurmJobStatus,
  type SlurmPlan,
} from "./types.js";

/** How long a stop waits for the job to leave the queue (Slurm sends KILL after its KillWait). */
const CANCEL_WAIT_SECONDS = 120;

export class SlurmBackend implements Backend {
  /** A job may wait in the queue for long: offload beats for the lock while it follows the job. */
  readonly startedJobKeepsLock = false;
  /** Slurm queues the jobs and places them on its nodes: a sweep submits all of its runs at once. */
  readonly schedules = true;
  readonly #transport: Transport;
  readonly #client: SlurmClient;
  readonly #spec: SlurmJobSpec;
  readonly #reconnectTimeoutSeconds: number;

  constructor(
    transport: Transport,
    options: { slurm: SlurmJobSpec; reconnectTimeoutSeconds: number },
  ) {
    this.#transport = transport;
    this.#client = new SlurmClient(transport);
    this.#spec = options.slurm;
    this.#reconnectTimeoutSeconds = options.reconnectTimeoutSeconds;
  }

  /**
   * Secrets reach a job through a 0600 file the launcher reads; a batch job has no such launcher yet.
   * A retry would submit into the same run dir, whose output file the next attempt would stream again.
   */
  checkRun(run: { secretNames: readonly string[]; retries: number }): void {
    const label = this.#transport.label;
    if (run.secretNames.length > 0)
      throw new OffloadError(
        "E_USAGE",
        `--secret is not supported on the Slurm target ${label}: nothing was submitted.`,
        {
          hint: "Give the job its credentials through the cluster's own means (a file in your home there), or run on an SSH host.",
        },
      );
    if (run.retries > 1)
      throw new OffloadError(
        "E_USAGE",
        `retry: is not supported on the Slurm target ${label}: nothing was submitted.`,
        {
          hint: "Slurm requeues a job itself: add `--requeue` to the target's `slurm: args:`, and leave `retry:` out for this target.",
        },
      );
  }

  /** Submits the batch script; the job id is the started job's handle. */
  async launch(job: JobLaunch, io: LaunchIo): Promise<LaunchOutcome> {
    let ref: SlurmJobRef;
    try {
      ref = await this.#client.launch(planOf(job, this.#spec));
    } catch (error) {
      // Slurm refused it (or the script never arrived whole): nothing runs. A lost connection is
      // thrown, and the record kept: the job may have been submitted.
      if (isOffloadError(error) && error.code === "E_LAUNCH") return { kind: "not-started", error };
      throw error;
    }
    return started(ref.jobId, io);
  }

  /** One `sbatch --array` for a sweep's runs; each run's job id is its task's, `<array>_<index>`. */
  async launchArray(name: string, tasks: readonly ArrayTask[]): Promise<LaunchOutcome[]> {
    let refs: Map<number, SlurmJobRef>;
    try {
      refs = await this.#client.launchArray(
        name,
        this.#spec,
        tasks.map(({ index, job }) => ({ index, plan: planOf(job, this.#spec) })),
      );
    } catch (error) {
      if (isOffloadError(error) && error.code === "E_LAUNCH")
        return tasks.map(() => ({ kind: "not-started", error }));
      throw error;
    }
    return tasks.map(({ index, io }) => started(refs.get(index)?.jobId ?? "", io));
  }

  /** Follows the job's output until Slurm says it ended; the end mark then frees the remote dir. */
  async follow(job: JobRef, io: FollowIo): Promise<RunEnd> {
    const ref = await this.#find(job);
    const final = await followSlurmJob(this.#client, ref, io, {
      label: this.#transport.label,
      reconnectTimeoutSeconds: this.#reconnectTimeoutSeconds,
    });
    const code = exitCodeOf(final);
    io.onJob?.({ slurm: recordOf(final) });
    // Frees the remote dir's lock where the batch script never got to its end (cancel, time limit, OOM).
    if (code !== undefined) await this.#client.markEnded(ref, code);
    io.report(stateEvent(final));
    if (code === undefined) return { kind: "lost" };
    // Cancelled by a stop from another terminal (or by hand): a stop, not a failure of the job.
    return final.state === "CANCELLED"
      ? { kind: "exit", code, cancelled: true }
      : { kind: "exit", code };
  }

  /** scancel; Slurm sends TERM, then KILL after its own KillWait (not offload's grace period). */
  async stop(job: JobRef, options: StopOptions): Promise<StopOutcome> {
    const { jobId } = await this.#find(job);
    options.report?.({ type: "slurm-cancelling", jobId });
    const status = await this.#client.cancel(jobId, CANCEL_WAIT_SECONDS, options.signal);
    if (status === undefined || isActiveState(status.state)) return "pending";
    return status.state === "CANCELLED" ? "stopped" : "already-ended";
  }

  /** Submitted or not: the submit keeps the job id in the run dir once sbatch took it. */
  async status(job: JobRef): Promise<JobStatus> {
    if (job.slurm) return { state: "started", job: { slurm: job.slurm } };
    const found = await this.#client.find(job.remoteDir, job.runId);
    return found === undefined
      ? { state: "not-started" }
      : { state: "started", job: { slurm: { jobId: found.jobId } } };
  }

  /** `ps`: Slurm, not a launcher, knows how each job stands (squeue, then scontrol or sacct). */
  async survey(jobs: readonly JobRef[]): Promise<Map<string, JobSurvey>> {
    const answers = await Promise.all(
      jobs.map(async (job): Promise<[string, JobSurvey]> => [job.runId, await this.#ask(job)]),
    );
    return new Map(answers);
  }

  async #ask(job: JobRef): Promise<JobSurvey> {
    // A record left `launching` (its offload ended during the submit) has no job id: the submit kept
    // it in the run dir once sbatch took the job.
    const jobId =
      job.slurm?.jobId ??
      (await this.#client.find(job.remoteDir, job.runId).catch(() => undefined))?.jobId;
    if (jobId === undefined)
      return {
        state: "unknown",
        why: `no Slurm job is recorded for it: its offload ended while submitting it, or submits it now (\`offload attach ${job.runId}\` settles it)`,
      };
    let status: SlurmJobStatus;
    try {
      status = await this.#client.status(jobId);
    } catch (error) {
      return { state: "unknown", why: error instanceof Error ? error.message : String(error) };
    }
    if (status.state === "UNKNOWN")
      return {
        state: "unknown",
        why: `Slurm no longer knows job ${jobId} (its accounting kept no end)`,
      };
    const recorded = { slurm: recordOf(status) };
    if (isActiveState(status.state)) return { state: "running", job: recorded };
    return {
      state: "ended",
      code: exitCodeOf(status) ?? null,
      ...(status.state === "CANCELLED" ? { cancelled: true } : {}),
      job: recorded,
    };
  }

  /** The job of a run: its recorded id, else the one its submit kept in the run dir. */
  async #find(job: JobRef): Promise<SlurmJobRef> {
    const { runId, remoteDir } = job;
    const jobId = job.slurm?.jobId ?? (await this.#client.find(remoteDir, runId))?.jobId;
    if (jobId !== undefined) return { jobId, remoteDir, runId };
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `Run ${runId} has no Slurm job in ${remoteDir} on ${this.#transport.label}: nothing was submitted for it.`,
      { hint: "Run the command again." },
    );
  }
}

/** The Slurm plan of a run's launch. */
function planOf(job: JobLaunch, spec: SlurmJobSpec): SlurmPlan {
  const { plan } = job;
  return {
    runId: plan.runId,
    remoteDir: plan.remoteDir,
    command: plan.command,
    env: plan.env,
    workdir: plan.workdir ?? "",
    // A failing startup command ends the batch script with its code, as it skips the job elsewhere.
    setupLines: [
      ...(plan.startup.length > 0 ? ["set -e", ...plan.startup, "set +e"] : []),
      ...plan.setupLines,
    ],
    shutdownLines: plan.shutdown.map((command) => `( ${command}\n) || true`),
    slurm: spec,
  };
}

/** A submitted job's handle, told to the run (its record, its reporter). */
function started(jobId: string, io: LaunchIo): LaunchOutcome {
  const job: JobRecord = { slurm: { jobId } };
  io.onStarted(job);
  io.report({ type: "slurm-submitted", jobId });
  return { kind: "started", job };
}
