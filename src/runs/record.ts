// The run record (run.json): what was asked, where it ran, how each phase went and how it ended.
import type { GpuInfo } from "../host/gpus.js";
import type { HostFacts } from "../host/probe.js";
import type { FetchedInput } from "../storage/transfer-events.js";
import type { RecordedDownload } from "./record-schema.js";

/**
 * `launching`: saved before the launch round trip, `running` once the host confirmed the start; a
 * record left `launching` (offload killed mid-launch) is settled by the launch status check on attach.
 */
export type RunStatus =
  | "launching"
  | "running"
  | "succeeded"
  | "failed"
  | "stopped"
  | "lost"
  | "error";

export interface RunRecord {
  version: 1;
  id: string;
  /** The command as typed after `--`. */
  command: string[];
  /** `run --name`: usable wherever a run id is (the latest run of that name). */
  name?: string;
  /** `run --tag k=v`. */
  tags?: Record<string, string>;
  target: {
    label: string;
    /**
     * The offload.yaml target the host came from (`--host cluster`), when it came from one: later
     * commands on the run (attach, stop, ps) resolve it again, with its `slurm:` block and settings.
     */
    name?: string;
    kind: "ssh" | "local";
    host?: string;
    user?: string;
    port?: number;
    /**
     * The ssh config file the host was reached through (`--ssh-config`, `ssh.config_file`): later
     * commands on the run (ps, logs, attach, stop, ui) reach it the same way without the flag.
     */
    sshConfig?: string;
    /**
     * The cloud machine (its ledger tag, the Host in `sshConfig`) a `cloud:` target's run is on: later
     * commands reach that machine, where resolving the target again would name no host at all.
     */
    machine?: string;
    /** Absolute remote dir. */
    remoteDir: string;
  };
  /** What the host had when the run started: CPUs, memory, free disk in the remote dir, Python, GPUs. */
  host?: HostFacts;
  /** The project's git state when the run started; absent outside a git repository. */
  git?: { commit: string | null; branch: string | null; dirty: boolean };
  status: RunStatus;
  /** The remote command's exit status; null while running or when it never ended. */
  exitCode: number | null;
  /** When offload started the run (this machine's clock). */
  startedAt: string;
  /** When the run ended: the host's stamp where it has one, else when offload saw the end. */
  finishedAt?: string;
  /**
   * When the job itself started and ended by the host's clock, as its launcher stamped them: what
   * durations are measured with. Absent in records of older runs and until a follow has read them.
   */
  job?: { startedAt?: string; endedAt?: string };
  /** Milliseconds spent in each phase: connect, sync, launch, run, download. */
  phases: Partial<
    Record<"connect" | "sync" | "env" | "launch" | "run" | "download" | "total", number>
  >;
  sync?: {
    tool: "rsync" | "tar";
    scanned: number;
    transferred: number;
    bytes: number;
    /** Files synced earlier and deleted locally since, removed from the remote dir. */
    removed?: number;
  };
  /** Where the command ran, relative to the remote dir: the folder offload was started from. */
  workdir?: string;
  /** Names of the environment variables given to the job. */
  envNames: string[];
  /** Names of the secrets given to the job; their values are never written anywhere by offload. */
  secretNames?: string[];
  /** The cached Python env the job ran in, and whether this run built or reused it. */
  environment?: { dir: string; status: "reused" | "built" };
  /** The GPUs picked for the job (`gpus: N`). */
  gpus?: GpuInfo[];
  /** See JobRecord in backends/types.ts. */
  remote?: { launcherPid?: number; realDir?: string };
  /** One node of a job across several hosts: the job's id, this node's rank, every node's host. */
  group?: { id: string; node: number; nodes: string[] };
  /** A run submitted to Slurm (a target with `slurm:`): its job id, and what Slurm said of it last. */
  slurm?: { jobId: string; state?: string; reason?: string; nodes?: string };
  /** The download rules in force, so `attach` and `pull` fetch what `run` would have. */
  download: RecordedDownload[];
  /** Set once someone asked to stop the run (Ctrl+C, `offload stop`). */
  stopRequested?: boolean;
  /** The run whose `run --force` stopped this one and took its remote dir. */
  displacedBy?: string;
  artifacts: string[];
  mappedFiles: string[];
  /**
   * The job has ended but its outputs are not home (or in the bucket) yet: set before the download
   * starts and cleared once it finished, or by `ps` settling a run nobody followed to its end. A record
   * left so by a killed offload says so; `attach` fetches them.
   */
  outputsPending?: boolean;
  /** Results put into a bucket from the remote machine (`results: s3://…`): what `offload pull` fetches. */
  results?: {
    /** `s3://bucket/prefix/<run id>/` */
    url: string;
    /** `storage.endpoint` in force (R2, MinIO); absent for AWS and GCS. */
    endpoint?: string;
    region?: string;
    objects: { path: string; key: string; size: number; sha256: string }[];
  };
  /** The attempt under way or last made (`retry:`); absent for a run of one attempt. */
  attempt?: number;
  /** Attempts before the current one, each with its log (relative to the run's folder). */
  attempts?: {
    attempt: number;
    status: RunStatus;
    exitCode: number | null;
    finishedAt: string;
    log: string;
    error?: { code: string; message: string };
  }[];
  /** The latest checkpoint taken while the job ran (`every:`), how many so far, files held. */
  checkpoint?: { at: string; count: number; files: number };
  /** `inputs:` objects fetched by the remote machine before the job started (its ETag cache). */
  inputs?: FetchedInput[];
  /** The cloud machine made for the run (`cloud:` targets) and what it cost. */
  machine?: RecordedMachine;
  /** Bytes of output.log this machine holds: the resume cursor for `attach`. */
  logBytes: number;
  error?: { code: string; message: string };
}

/** A value no code can change: arrays and objects readonly all the way down. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * A run record as its readers see it: changed only through its RecordWriter (record-writer.ts). The
 * download rules stay a readonly list of plain rules: sync's planner takes them as they are.
 */
export type RecordView = DeepReadonly<Omit<RunRecord, "download">> & {
  readonly download: readonly RecordedDownload[];
};

/** A cloud machine as a run record keeps it (providers/ reports its cost in this shape). */
export interface RecordedMachine {
  provider: string;
  tag: string;
  id: string;
  region?: string;
  flavor: string;
  usdPerHour?: number;
  priceSource?: string;
  /** USD from when the machine was asked for (or this run took a kept one) until now or its deletion. */
  costUsd?: number;
  kept: boolean;
  /** `budget`: the run was stopped so the budget would not be spent. */
  stoppedBy?: string;
}

/** How long the job ran, by the host's stamps; undefined where a stamp is missing. */
export function jobDurationMs(record: Pick<RunRecord, "job">): number | undefined {
  const started = record.job?.startedAt;
  const ended = record.job?.endedAt;
  if (started === undefined || ended === undefined) return undefined;
  const ms = Date.parse(ended) - Date.parse(started);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export function statusForExit(code: number): RunStatus {
  return code === 0 ? "succeeded" : "failed";
}
