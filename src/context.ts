// RunContext: what every session needs, built once by `createRunContext` (create.ts) and passed whole.
// Sessions take the context and a small request of what the command line adds. The two seams a new
// kind of target plugs into are here and in backends/types.ts: a HostSource (where the run gets its
// host: an existing one, or a machine made for it) and a Backend (how a job runs there).

import type { SlurmJobSpec } from "./backends/slurm/types.js";
import type { Backend } from "./backends/types.js";
import type { InputSpec, RetrySettings } from "./config/settings.js";
import type { Reporter } from "./events.js";
import type { RunRecord } from "./runs/record.js";
import type { RunStore } from "./runs/store.js";
import type { DownloadEntry, UploadEntry } from "./sync/entries.js";
import type { Transport } from "./transport/types.js";

export interface PythonSettings {
  requirements?: string;
  interpreter?: string;
  systemSitePackages?: boolean;
}

/** The part of the effective settings a run relies on, with the defaults a run needs. */
export interface RunSettings {
  remoteDir: string;
  env: Record<string, string>;
  startup: string[];
  shutdown: string[];
  ignore: string[];
  upload: UploadEntry[];
  download: DownloadEntry[];
  syncTool: "auto" | "rsync" | "tar";
  reconnectTimeoutSeconds: number;
  graceSeconds: number;
  python: PythonSettings;
  gpus?: number | undefined;
  /** `progress.patterns`: the user's regexes, read from the log beside the built-in parsers. */
  progressPatterns?: readonly string[];
  /** `slurm:`: the target is a Slurm login node; the job is submitted there (backends/slurm/). */
  slurm?: SlurmJobSpec | undefined;
  /** `results:`, `inputs:` and `storage:`: the run's buckets. */
  buckets?: BucketSettings;
  /** `machine.every`: seconds between machine samples; 0 turns the sampler off (default 5). */
  sampleSeconds?: number;
  /** `retry:`; absent: one attempt. */
  retry?: RetrySettings;
}

export interface BucketSettings {
  results?: { url: string; every?: number } | undefined;
  inputs: readonly InputSpec[];
  storage: { endpoint?: string | undefined; region?: string | undefined };
}

/** How a person steers a run in progress: the first Ctrl+C stops the job, the second leaves at once. */
export interface RunControls {
  stop?: AbortSignal | undefined;
  detach?: AbortSignal | undefined;
}

/** How the run record names the host (its remote dir is added once resolved). */
export type RunTarget = Omit<RunRecord["target"], "remoteDir">;

/** Time as the sessions read it, so phase times and stamps come from one place. */
export interface Clock {
  /** Monotonic milliseconds (phase times). */
  now(): number;
  /** Wall-clock time (record stamps). */
  date(): Date;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  date: () => new Date(),
};

/** Whole milliseconds since `start` (a `clock.now()`). */
export function msSince(clock: Clock, start: number): number {
  return Math.round(clock.now() - start);
}

export interface RunContext {
  projectDir: string;
  settings: RunSettings;
  /** How the record names the host the transport reaches. */
  target: RunTarget;
  transport: Transport;
  /** How jobs run on `transport`. */
  backend: Backend;
  /** Where `run` gets its host; attach, stop and logs use the recorded one. */
  hosts: HostSource;
  store: RunStore;
  clock: Clock;
  report: Reporter;
  controls: RunControls;
}

/** A host acquired for one run, and how to give it back. */
export interface AcquiredHost {
  /** The context on that host (its transport, target and backend). */
  context: RunContext;
  /** Gives the host back (a machine made for the run is deleted); called on success, failure and Ctrl+C. */
  release(): Promise<void>;
  /** A lost host is given back and a fresh one acquired for the next attempt (a cloud machine). */
  freshOnLoss?: boolean;
}

/** What the run asks of its host beyond the context. */
export interface AcquireNeeds {
  /** `--no-wait`: nobody follows the run, so nobody gives the host back after it. */
  noWait: boolean;
  /**
   * The run the host is for: a machine made for it names it in the ledger, so the command that deletes
   * the machine of a dead offload also ends the run's record (providers/orphan-runs.ts).
   */
  runId?: string;
}

/**
 * Where a run gets its host: `acquire` before anything is prepared there, `release` in a finally.
 * Not the cloud `Provider` of src/providers/types.ts, which a HostSource for a cloud target uses.
 */
export interface HostSource {
  acquire(context: RunContext, needs?: AcquireNeeds): Promise<AcquiredHost>;
}

/** The host the settings name, already there: nothing to make, nothing to give back. */
export const existingHost: HostSource = {
  acquire: async (context) => ({ context, release: async () => {} }),
};
