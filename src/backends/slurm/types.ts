// The shapes of a Slurm job as offload sees it: what to submit, how to find it again, what Slurm says.

/** A target's `slurm:` settings; each set field becomes an `#SBATCH` line. */
export interface SlurmJobSpec {
  partition?: string;
  nodes?: number;
  /** One task per node unless set: the torchrun contract launches one agent per node. */
  ntasksPerNode?: number;
  gpusPerNode?: number;
  cpusPerTask?: number;
  /** Slurm's time format: `30`, `2:00:00`, `1-12:00:00`. */
  time?: string;
  account?: string;
  jobName?: string;
  /** The user's own lines, `#SBATCH --mem=16G` or `--mem=16G`; written after offload's, so they win. */
  directives?: readonly string[];
  /** More `sbatch` arguments; the command line wins over every `#SBATCH` line. */
  extraArgs?: readonly string[];
}

export interface SlurmPlan {
  runId: string;
  /** The synced workspace on the login node's file system, which the compute nodes see too. */
  remoteDir: string;
  /** argv as typed after `--`; one word with spaces is taken as shell text. */
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Batch-script lines run after the env exports, before `srun` (activate a venv, source secrets). */
  setupLines?: readonly string[];
  /** Batch-script lines run after `srun` has ended (the target's `shutdown:` commands). */
  shutdownLines?: readonly string[];
  /** Folder of the remote dir the command runs in; "" or absent: the root. */
  workdir?: string;
  slurm: SlurmJobSpec;
}

/** Enough to find a job again from another offload: what `launch` returns and the run record keeps. */
export interface SlurmJobRef {
  jobId: string;
  remoteDir: string;
  runId: string;
}

/** What Slurm says of a job: `state` as Slurm spells it (PENDING, RUNNING, COMPLETED, FAILED…). */
export interface SlurmJobStatus {
  jobId: string;
  state: string;
  /** Why it waits or ended (`Resources`, `Priority`, `JobHeldUser`, `NonZeroExitCode`); undefined: none. */
  reason?: string;
  /** The allocated nodes in Slurm's notation (`node[1-2]`); undefined while pending. */
  nodes?: string;
  /** Set once the job has ended: its own code, or 128 + the signal that ended it, as a shell reports. */
  exitCode?: number;
  /** Where the answer came from: squeue/scontrol (the controller), sacct (accounting or jobcomp). */
  source: "squeue" | "scontrol" | "sacct" | "unknown";
}

/** States in which a job may still produce output (squeue lists these). */
const ACTIVE_STATES = new Set([
  "PENDING",
  "CONFIGURING",
  "RUNNING",
  "COMPLETING",
  "SUSPENDED",
  "STOPPED",
  "REQUEUED",
  "REQUEUE_HOLD",
  "REQUEUE_FED",
  "RESV_DEL_HOLD",
  "RESIZING",
  "SIGNALING",
  "STAGE_OUT",
]);

export function isActiveState(state: string): boolean {
  return ACTIVE_STATES.has(state);
}
