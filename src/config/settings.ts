// The types of effective settings and of where each value came from (provenance).
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { DownloadEntry, UploadEntry } from "../sync/entries.js";
import type { CloudTarget } from "./cloud.js";
import type { HostTarget } from "./host.js";
import type { SettingsFile } from "./schema.js";
import type { SlurmSettings } from "./slurm.js";
import type { SweepSettings } from "./sweep.js";

/** Where a value came from. `file` is the file as people read it: `offload.yaml`, `~/.config/offload/config.yaml`. */
export type Source =
  | { kind: "cli" }
  | { kind: "project" | "user"; file: string; line: number }
  | { kind: "ssh" }
  | { kind: "default" };

/** One layer of settings as read: the CLI, the project's offload.yaml, or the user's config.yaml. */
export interface SettingsLayer {
  kind: "cli" | "project" | "user";
  data: SettingsFile;
  /** How messages name the file (not used for the CLI). */
  file?: string;
  /** Line of each key path (`env.FOO`, `upload[1]`), from parseSettingsText. */
  lines?: Readonly<Record<string, number>>;
  /** Relative local paths in this layer (ssh.config_file) are relative to this directory. */
  dir?: string;
}

export interface EffectiveSettings {
  name: string;
  /** The host string in use: a named target's `host` when a target was named. */
  hostLabel: string;
  host: HostTarget;
  /** The named target in use, when `--host`/`host:` named one from `targets:`. */
  target?: string;
  /** A target with `cloud:`: the machine is created for the run and deleted after it. */
  cloud?: CloudTarget;
  /** Where the run's workspace lives on the remote; relative paths are under the remote home. */
  remoteDir: string;
  env: Record<string, string>;
  upload: UploadEntry[];
  download: DownloadEntry[];
  ignore: string[];
  startup: string[];
  shutdown: string[];
  sync: { tool: "auto" | "rsync" | "tar" };
  ssh: { configFile?: string; connectTimeout?: number; keepalive?: number };
  reconnect: { timeout: number };
  /** Seconds between TERM and KILL when a run is stopped. */
  stop: { grace: number };
  python: { requirements?: string; interpreter?: string; systemSitePackages?: boolean };
  gpus?: number;
  /** `machine_metrics`: seconds between machine samples; 0: none. */
  machineMetrics: number;
  /** `progress.patterns`: the user's regexes for log lines the built-in parsers miss. */
  progress: { patterns: string[] };
  /** `forward:` ports (PORT or PORT:LOCAL) forwarded while a run is followed. */
  forward: string[];
  /** `slurm:`: the target is a Slurm login node; the run is a batch job (the top layer's block wins whole). */
  slurm?: SlurmSettings;
  /** `results:`: the bucket folder the download rules' matches go to; `every` seconds while the job runs. */
  results?: { url: string; every?: number };
  /** `inputs:` objects fetched by the remote machine before the job starts. */
  inputs: InputSpec[];
  storage: { endpoint?: string; region?: string };
  retry: RetrySettings;
  /** `nodes:`: one job across these hosts, or N machines of a cloud target (session/nodes.ts). */
  nodes?: string[] | number;
  /** `sweep:`: `offload sweep`'s grid, hosts and command when its flags don't give them (top layer's block wins whole). */
  sweep?: SweepSettings;
}

/** One `inputs:` entry: the object's URL and where it lands in the remote dir ("" or `dir/`: its own name). */
export interface InputSpec {
  url: string;
  to: string;
}

export interface RetrySettings {
  /** Tries in all, the first included. */
  attempts: number;
  on: ("failed" | "lost")[];
  backoffSeconds: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  attempts: 1,
  on: ["failed", "lost"],
  backoffSeconds: 30,
};

export interface LoadedSettings {
  settings: EffectiveSettings;
  /**
   * Source of each value, by the key path as written in offload.yaml: `host`, `remote_dir`, `env`,
   * `env.FOO`, `upload[0]` (index into the merged list), `ssh.config_file`, `target`…
   */
  sources: Record<string, Source>;
  /** What the user should hear before anything connects: e.g. a host that looks like a mistyped target. */
  warnings?: string[];
}

export const DEFAULT_RECONNECT_TIMEOUT_SECONDS = 300;
export const DEFAULT_STOP_GRACE_SECONDS = 10;
/** Seconds between machine samples (remote/sampler.ts says the same for callers without settings). */
export const DEFAULT_MACHINE_METRICS_SECONDS = 5;

/**
 * `~/.offload/work/<name>-<8 hex>`: the name for people, the hash of the project root's absolute path so
 * that two projects whose folders share a name never share a remote dir. Stable while the project stays
 * where it is; a moved project starts a fresh remote dir.
 */
export function defaultRemoteDir(name: string, projectDir: string): string {
  const hash = createHash("sha256").update(resolve(projectDir)).digest("hex").slice(0, 8);
  return `~/.offload/work/${name}-${hash}`;
}
