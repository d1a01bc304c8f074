// The Backend seam: how a job is started, followed, stopped and asked about on a target that offload
// has prepared (remote dir resolved and locked, workspace synced, env built). The run protocol of
// remote/ (a detached launcher over a Transport) is the first implementation
// (src/session/protocol-backend.ts); Slurm (src/backends/slurm/) is the next. Sessions only see this;
// `createBackend` (src/create.ts) picks one from the settings.
import type { Reporter } from "../events.js";
import type { LaunchPlan } from "../remote/launch.js";
import type { HostTimes } from "../remote/markers.js";

/**
 * What the run record keeps of a job to find it again and to show how it stands, each backend under its
 * own key of run.json: the run protocol's launcher pid (`remote`), which proves the job's processes;
 * Slurm's job id and what Slurm said of it last (`slurm`: PENDING with its reason, RUNNING on nodes,
 * COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY). Sessions copy it into the record as it comes;
 * a new backend adds its key here and in runs/record.ts, nothing in session/.
 */
export interface JobRecord {
  /**
   * The run protocol's launcher, and the remote dir's physical path (`pwd -P`) when it launched: the
   * download reads from that path and refuses where it now leads elsewhere (the dir replaced by a
   * symlink while the job ran).
   */
  remote?: { launcherPid?: number; realDir?: string };
  slurm?: { jobId: string; state?: string; reason?: string; nodes?: string };
}

/** Which job: enough to find it again from another offload (all of it is in the run record). */
export interface JobRef extends JobRecord {
  runId: string;
  /** Absolute remote dir of the run. */
  remoteDir: string;
}

/** The JobRef of a recorded run. */
export function jobRefOf(
  record: { id: string; target: { remoteDir: string } } & JobRecord,
): JobRef {
  return {
    runId: record.id,
    remoteDir: record.target.remoteDir,
    ...(record.remote === undefined ? {} : { remote: record.remote }),
    ...(record.slurm === undefined ? {} : { slurm: record.slurm }),
  };
}

/** Why a follow was left (the abort reason of its signal): a Ctrl+C, or a stdout nobody reads any more. */
export const LEFT_BY = { interrupt: "interrupt", outputClosed: "output-closed" } as const;

/**
 * How a followed job ended. `diskFull`: the remote dir's file system had (next to) no space left;
 * `displacedBy`: `run --force` of that run took the remote dir and stopped this one; `cancelled`: the
 * scheduler says the job was cancelled (a stop from any terminal); `missing`: the run is no longer in
 * its remote dir.
 */
export type RunEnd =
  | { kind: "exit"; code: number; diskFull?: boolean; displacedBy?: string; cancelled?: boolean }
  | { kind: "lost"; diskFull?: boolean }
  | { kind: "missing" };

/** The local end of a log: bytes appended in order; its size is the offset a follow resumes from. */
export interface LogWriter {
  readonly size: number;
  write(chunk: Uint8Array): void;
  /** The file itself, for a stream that a child process appends to directly (log-sinks.ts). */
  readonly direct?: DirectLog;
}

/**
 * A log file that a child (ssh) may append to by itself: offload then reads the new bytes back in large
 * blocks to show and parse them, instead of copying every byte through a pipe and a write of its own.
 */
export interface DirectLog {
  /** Where the file is (watched for growth). */
  readonly path: string;
  /** A descriptor open for appending, to hand to the child as its stdout. */
  readonly fd: number;
  /** Reads the file at `position` into `buffer`; 0 at its end. */
  read(buffer: Uint8Array, position: number): number;
  /** `bytes` that the child appended were read back: the size moves past them. */
  grew(bytes: number): void;
}

export interface FollowIo {
  sink: LogWriter;
  /** The run's machine samples (machine.txt), resumed from its size as the log is; absent: not asked. */
  samples?: LogWriter | undefined;
  /** Output, reconnect and state events. */
  report: Reporter;
  /** Aborting leaves the follow (E_INTERRUPTED or E_OUTPUT_CLOSED, by its reason); the job goes on. */
  signal?: AbortSignal | undefined;
  /** What the backend learned of the job while following (a new scheduler state): for the record. */
  onJob?: ((job: JobRecord) => void) | undefined;
}

export interface LaunchIo extends FollowIo {
  /** The job has started (once, before `launch` settles): from here a stop request must stop it. */
  onStarted(job: JobRecord): void;
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
  | { kind: "started"; job: JobRecord }
  | { kind: "not-started"; error: Error };

/** One run of a job array: its task id (the sweep's grid index), its launch and where it reports. */
export interface ArrayTask {
  index: number;
  job: JobLaunch;
  io: LaunchIo;
}

/** What the host says of a job whose launch offload did not see end (a record left `launching`). */
export type JobStatus = { state: "started"; job: JobRecord } | { state: "not-started" };

/** How a job recorded as running stands now (`ps`); `job`: a newer state of it for the record. */
export type JobSurvey =
  | { state: "running"; job?: JobRecord }
  | {
      state: "ended";
      code: number | null;
      times?: HostTimes;
      /** The run whose `run --force` took the remote dir and stopped this one. */
      displacedBy?: string;
      /** Its scheduler says it was cancelled (by hand, from outside offload): a stop, as RunEnd's. */
      cancelled?: boolean;
      job?: JobRecord;
    }
  | { state: "lost"; job?: JobRecord }
  /** The host or scheduler could not tell (the run dir is gone, the job forgotten), with why. */
  | { state: "unknown"; why: string };

export interface StopOptions {
  graceSeconds: number;
  /** Stops waiting once the stop is under way on the host; the stop goes on there. */
  signal?: AbortSignal | undefined;
  /** Where the backend says how it stops the job (TERM then KILL, or scancel). */
  report?: Reporter | undefined;
}

export interface Backend {
  /**
   * Once started, the job keeps the remote dir's lock alive itself (the run protocol's launcher). Where
   * false (a Slurm job may wait in the queue), offload beats for the lock as long as it follows the job.
   */
  readonly startedJobKeepsLock: boolean;
  /**
   * The backend has a scheduler of its own (Slurm): a sweep hands it every run at once and the
   * scheduler decides where and when each runs; false: a sweep runs one job a free GPU of the host.
   */
  readonly schedules: boolean;
  /** Refuses, before anything moves, what this backend cannot run (secrets, retries), with why. */
  checkRun(run: { secretNames: readonly string[]; retries: number }): void;
  /**
   * Starts the job; a backend may stream its log in the same round trip (the next `follow` of the run
   * goes on from there). Where nothing started (the lock taken, no room, a refusal) the outcome says
   * so; a launch that cannot tell whether the job started throws (E_DISCONNECTED), and the record stays.
   */
  launch(job: JobLaunch, io: LaunchIo): Promise<LaunchOutcome>;
  /**
   * A scheduler's job array (Slurm): a sweep's runs submitted as one job named `name`, each run one
   * task of it, all started or none (outcomes in the order of `tasks`); throws as `launch` does.
   * Absent where the backend has no such thing: each run is then launched on its own.
   */
  launchArray?(name: string, tasks: readonly ArrayTask[]): Promise<LaunchOutcome[]>;
  /** Streams the job's log from `io.sink.size` until the job has ended, reconnecting as configured. */
  follow(job: JobRef, io: FollowIo): Promise<RunEnd & { times?: HostTimes }>;
  /** Stops the job (TERM, KILL after `graceSeconds`); `signal` stops waiting, the stop goes on. */
  stop(job: JobRef, options: StopOptions): Promise<StopOutcome>;
  /** Whether a launch that offload did not see end started the job. */
  status(job: JobRef): Promise<JobStatus>;
  /**
   * How each job stands now, by run id (jobs of one host, asked together: one round trip where the
   * backend can). Throws when the host gave no answer at all.
   */
  survey(jobs: readonly JobRef[], options: { timeoutMs: number }): Promise<Map<string, JobSurvey>>;
}
