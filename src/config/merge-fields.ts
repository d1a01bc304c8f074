// Folds one settings layer's env, lists and nested sections into the effective settings, noting sources.
import { isAbsolute, join, resolve } from "node:path";
import type { MergeInput } from "./merge.js";
import type { EffectiveSettings, SettingsLayer, Source } from "./settings.js";
import { toDownloadEntry, toEnvMap, toUploadEntry } from "./transfer-entries.js";

const LIST_KEYS = ["upload", "download", "ignore", "startup", "shutdown"] as const;

export function sourceOf(layer: SettingsLayer, key: string): Source {
  if (layer.kind === "cli") return { kind: "cli" };
  return { kind: layer.kind, file: layer.file ?? "?", line: layer.lines?.[key] ?? 1 };
}

function expandLocalPath(path: string, layer: SettingsLayer, input: MergeInput): string {
  if (path === "~") return input.homeDir;
  if (path.startsWith("~/")) return join(input.homeDir, path.slice(2));
  return isAbsolute(path) ? path : resolve(layer.dir ?? input.projectDir, path);
}

export function mergeEnv(
  settings: EffectiveSettings,
  sources: Record<string, Source>,
  layer: SettingsLayer,
): void {
  const env = layer.data.env;
  if (env === undefined) return;
  sources.env = sourceOf(layer, "env");
  for (const [name, value] of Object.entries(toEnvMap(env))) {
    settings.env[name] = value;
    // A list names the variable in its item; the last item setting it is the one that counts.
    const index = Array.isArray(env)
      ? env.findLastIndex((item) => item.startsWith(`${name}=`))
      : -1;
    sources[`env.${name}`] = sourceOf(layer, index < 0 ? `env.${name}` : `env[${index}]`);
  }
}

export function mergeLists(
  settings: EffectiveSettings,
  sources: Record<string, Source>,
  layer: SettingsLayer,
): void {
  for (const key of LIST_KEYS) {
    const items = layer.data[key];
    if (items === undefined) continue;
    sources[key] = sourceOf(layer, key);
    items.forEach((item, index) => {
      sources[`${key}[${settings[key].length}]`] = sourceOf(layer, `${key}[${index}]`);
      if (key === "upload") settings.upload.push(toUploadEntry(item as string));
      else if (key === "download") settings.download.push(toDownloadEntry(item));
      else settings[key].push(item as string);
    });
  }
}

export function mergeNested(
  settings: EffectiveSettings,
  sources: Record<string, Source>,
  layer: SettingsLayer,
  input: MergeInput,
): void {
  const { sync, ssh, reconnect, stop, python } = layer.data;
  const note = (key: string) => {
    sources[key] = sourceOf(layer, key);
    sources[key.split(".")[0] ?? key] = sourceOf(layer, key.split(".")[0] ?? key);
  };
  if (sync?.tool !== undefined) {
    settings.sync.tool = sync.tool;
    note("sync.tool");
  }
  if (ssh?.config_file !== undefined) {
    settings.ssh.configFile = expandLocalPath(ssh.config_file, layer, input);
    note("ssh.config_file");
  }
  if (ssh?.connect_timeout !== undefined) {
    settings.ssh.connectTimeout = ssh.connect_timeout;
    note("ssh.connect_timeout");
  }
  if (ssh?.keepalive !== undefined) {
    settings.ssh.keepalive = ssh.keepalive;
    note("ssh.keepalive");
  }
  if (reconnect?.timeout !== undefined) {
    settings.reconnect.timeout = reconnect.timeout;
    note("reconnect.timeout");
  }
  if (stop?.grace !== undefined) {
    settings.stop.grace = stop.grace;
    note("stop.grace");
  }
  if (python?.requirements !== undefined) {
    settings.python.requirements = python.requirements;
    note("python.requirements");
  }
  if (python?.interpreter !== undefined) {
    settings.python.interpreter = python.interpreter;
    note("python.interpreter");
  }
  if (python?.system_site_packages !== undefined) {
    settings.python.systemSitePackages = python.system_site_packages;
    note("python.system_site_packages");
  }
}
