// Merges user, project, named-target and CLI settings by precedence, recording where each value came from.
import { basename, resolve } from "node:path";
import { toCloudTarget } from "./cloud.js";
import { parseHost } from "./host.js";
import { mergeEnv, mergeLists, mergeNested, sourceOf } from "./merge-fields.js";
import { mergeStorage } from "./merge-storage.js";
import type { SettingsFile } from "./schema.js";
import {
  DEFAULT_MACHINE_METRICS_SECONDS,
  DEFAULT_RECONNECT_TIMEOUT_SECONDS,
  DEFAULT_RETRY,
  DEFAULT_STOP_GRACE_SECONDS,
  defaultRemoteDir,
  type EffectiveSettings,
  type LoadedSettings,
  type SettingsLayer,
  type Source,
} from "./settings.js";
import { toSlurmSettings } from "./slurm.js";
import { suggestKey } from "./suggest.js";
import { toSweepSettings } from "./sweep.js";

export interface MergeInput {
  projectDir: string;
  homeDir: string;
  user?: SettingsLayer;
  project?: SettingsLayer;
  cli?: SettingsFile;
}

/** The named target's definition as a layer of its own, lines re-keyed from `targets.<name>.…`. */
function targetLayer(owner: SettingsLayer, name: string): SettingsLayer {
  const prefix = `targets.${name}.`;
  const lines: Record<string, number> = {};
  for (const [key, line] of Object.entries(owner.lines ?? {})) {
    if (key.startsWith(prefix)) lines[key.slice(prefix.length)] = line;
  }
  const { host, ...rest } = owner.data.targets?.[name] ?? { host: "local" };
  const layer: SettingsLayer = { kind: owner.kind, data: { ...rest, host }, lines };
  if (owner.file !== undefined) layer.file = owner.file;
  if (owner.dir !== undefined) layer.dir = owner.dir;
  return layer;
}

/** The project directory's name made safe to be a remote directory name. */
export function deriveProjectName(projectDir: string): string {
  const name = basename(resolve(projectDir))
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "");
  return name === "" ? "project" : name;
}

/** Pure: the effective settings of a run and the source of each value. Later layers win. */
export function mergeSettings(input: MergeInput): LoadedSettings {
  const cli: SettingsLayer | undefined =
    input.cli === undefined ? undefined : { kind: "cli", data: input.cli };
  const base = [input.user, input.project].filter((layer) => layer !== undefined);
  const sources: Record<string, Source> = {};

  // Which layer's `host` names what, and whether that is a target: the highest host and target win.
  const named = [...base, ...(cli ? [cli] : [])]
    .filter((layer) => layer.data.host !== undefined)
    .at(-1);
  const hostText = named?.data.host ?? "local";
  const owner = base.filter((layer) => layer.data.targets?.[hostText] !== undefined).at(-1);
  const target = owner === undefined ? undefined : targetLayer(owner, hostText);
  const layers = [...base, ...(target ? [target] : []), ...(cli ? [cli] : [])];

  const settings: EffectiveSettings = {
    name: deriveProjectName(input.projectDir),
    hostLabel: hostText,
    host: { kind: "local" },
    remoteDir: "",
    env: {},
    upload: [],
    download: [],
    ignore: [],
    startup: [],
    shutdown: [],
    sync: { tool: "auto" },
    ssh: {},
    reconnect: { timeout: DEFAULT_RECONNECT_TIMEOUT_SECONDS },
    stop: { grace: DEFAULT_STOP_GRACE_SECONDS },
    machineMetrics: DEFAULT_MACHINE_METRICS_SECONDS,
    python: {},
    progress: { patterns: [] },
    forward: [],
    inputs: [],
    storage: {},
    retry: { ...DEFAULT_RETRY, on: [...DEFAULT_RETRY.on] },
  };
  for (const key of [
    "name",
    "host",
    "remote_dir",
    "reconnect.timeout",
    "stop.grace",
    "sync.tool",
    "machine_metrics",
  ])
    sources[key] = { kind: "default" };
  sources.host = named === undefined ? { kind: "default" } : sourceOf(named, "host");
  let remoteDirRank = -1;
  let hostRank = named === undefined ? -1 : layers.indexOf(named);
  if (target !== undefined && named !== undefined) {
    settings.target = hostText;
    settings.hostLabel = target.data.host ?? "local";
    sources.target = sourceOf(named, "host");
    sources.host = sourceOf(target, "host");
    hostRank = layers.indexOf(target);
    // A cloud target's host is the machine made for the run: its address is known only then.
    const cloud = toCloudTarget(owner?.data.targets?.[hostText] ?? {});
    if (cloud !== undefined) {
      settings.cloud = cloud;
      settings.hostLabel = hostText;
      sources.host = sourceOf(target, "cloud");
    }
  }
  settings.host = parseHost(settings.hostLabel);
  const mistyped = target === undefined ? suggestTarget(hostText, base) : undefined;

  for (const [rank, layer] of layers.entries()) {
    // Keys a higher layer replaces whole: the file's value, read as the setting it fills.
    const take = <K extends keyof SettingsFile>(
      key: K,
      apply: (value: NonNullable<SettingsFile[K]>) => void,
    ) => {
      const value = layer.data[key];
      if (value === undefined) return;
      apply(value as NonNullable<SettingsFile[K]>);
      sources[key] = sourceOf(layer, key);
    };
    take("name", (name) => {
      settings.name = name;
    });
    take("remote_dir", (dir) => {
      settings.remoteDir = dir;
      remoteDirRank = rank;
    });
    take("forward", (forward) => {
      settings.forward = forward;
    });
    take("nodes", (nodes) => {
      settings.nodes = nodes;
    });
    take("slurm", (slurm) => {
      settings.slurm = toSlurmSettings(slurm);
    });
    take("sweep", (sweep) => {
      settings.sweep = toSweepSettings(sweep);
    });
    take("machine_metrics", (every) => {
      settings.machineMetrics = every === false ? 0 : every;
    });
    take("gpus", (gpus) => {
      settings.gpus = gpus;
    });
    // The user's patterns and the project's both apply: each teaches a format once.
    (layer.data.progress?.patterns ?? []).forEach((pattern, index) => {
      const at = `progress.patterns[${settings.progress.patterns.length}]`;
      sources[at] = sourceOf(layer, `progress.patterns[${index}]`);
      settings.progress.patterns.push(pattern);
    });
    mergeStorage(settings, sources, layer);
    mergeEnv(settings, sources, layer);
    mergeLists(settings, sources, layer);
    mergeNested(settings, sources, layer, input);
  }

  // A path in the host string is a remote_dir written at the host's level; at the same level it wins.
  if (
    settings.host.kind === "ssh" &&
    settings.host.path !== undefined &&
    hostRank >= remoteDirRank
  ) {
    settings.remoteDir = settings.host.path;
    sources.remote_dir = sources.host ?? { kind: "default" };
  } else if (remoteDirRank < 0) {
    settings.remoteDir = defaultRemoteDir(settings.name, input.projectDir);
  }
  return mistyped === undefined
    ? { settings, sources }
    : { settings, sources, warnings: [mistyped] };
}

/**
 * A bare host name one typo away from a target in offload.yaml is most likely that target mistyped. It
 * may still be a real ssh alias, so this is a warning, said before the connection (which then fails).
 */
function suggestTarget(hostText: string, layers: readonly SettingsLayer[]): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(hostText) || hostText === "local") return undefined;
  const names = [...new Set(layers.flatMap((layer) => Object.keys(layer.data.targets ?? {})))];
  const guess = suggestKey(hostText, names);
  if (guess === undefined || guess === hostText) return undefined;
  return `\`${hostText}\` is not a target in offload.yaml; did you mean \`${guess}\`? Using \`${hostText}\` as an ssh host.`;
}
