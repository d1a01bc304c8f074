// The Backend seam: how a job is started, followed, stopped and asked about on a target that offload
// has prepared (remote dir resolved and locked, workspace synced, env built). The run protocol of
// remote/ (a detached launcher over a Transport) is the first implementation
// (src/session/protocol-backend.ts); Slurm (src/backends/slurm/) is the next. Sessions only see this.
import type { Reporter } from "../events.js";
import type { LaunchPlan } from "../remote/launch.js";
import type { HostTimes } from "../remote/markers.js";

/** Which job: enough to find it again from another offload (the run record keeps both). */
export interface JobRef {
  runId: string;
  /** Absolute remote dir of the run. */
  remoteDir: string;
}

/**
 * How a followed job ended. `diskFull`: the remote dir's file system had (next to) no space left;
 * `displacedBy`: `run --force` of that run took the remote dir and stopped this one; `missing`: the
 * run is no longer in its remote dir.
 */
export type RunEnd =
  | { kind: "exit"; code: number; diskFull?: boolean; displacedBy?: string }
  | { kind: "lost"; diskFull?: boolean }
  | { kind: "missing" };

/** The local end of a log: bytes appended in order; its size is the offset a follow resumes from. */
export interface LogWriter {
  readonly size: number;
  write(chunk: Uint8Array): void;
}

export interface FollowIo {
  sink: LogWriter;
  /** The run's machine samples (machine.txt), resumed from its size as the log is; absent: not asked. */
  samples?: LogWriter | undefined;
  /** Output, reconnect and state events. */
  report: Reporter;
  /** Aborting leaves the follow (E_INTERRUPTED or E_OUTPUT_CLOSED, by its reason); the job goes on. */
  signal?: AbortSignal | undefined;
}

/** What the record keeps of a started job to prove its processes later (`remote` in run.json). */
export interface StartedJob {
  launcherPid?: number;
}

export interface LaunchIo extends FollowIo {
  /** The job has started (once, before `launch` settles): from here a stop request must stop it. */
  onStarted(job: StartedJob): void;
}

export interface JobLaunch {
  plan: LaunchPlan;
  /** Bytes the launch reads on stdin (the secrets file, then spec.json); never a command line. */
  stdin: string;
}

/** `stopped`: it ended on the signal; `pending`: signalled, no exit status yet. */
export type StopOutcome = "stopped" | "already-ended" | "pending";

/** A launch that started nothing (`not-started`, with why) lets the run's record go. */
export type LaunchOutcome =
  | { kind: "started"; job: StartedJob }
  | { kind: "not-started"; error: Error };

/** What the host says of a job whose launch offload did not see end (a record left `launching`). */
export type JobStatus = { state: "started"; job: StartedJob } | { state: "not-started" };

export interface Backend {
  /**
   * Starts the job; a backend may stream its log in the same round trip (the next `follow` of the run
   * goes on from there). Where nothing started (the lock taken, no room, a refusal) the outcome says
   * so; a launch that cannot tell whether the job started throws (E_DISCONNECTED), and the record stays.
   */
  launch(job: JobLaunch, io: LaunchIo): Promise<LaunchOutcome>;
  /** Streams the job's log from `io.sink.size` until the job has ended, reconnecting as configured. */
  follow(job: JobRef, io: FollowIo): Promise<RunEnd & { times?: HostTimes }>;
  /** Stops the job (TERM, KILL after `graceSeconds`); `signal` stops waiting, the stop goes on. */
  stop(job: JobRef, options: { graceSeconds: number; signal?: AbortSignal }): Promise<StopOutcome>;
  /** Whether a launch that offload did not see end started the job. */
  status(job: JobRef): Promise<JobStatus>;
}
