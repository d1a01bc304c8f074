// Reads the project, zone and Compute endpoint where gcloud reads them: CLOUDSDK_* variables first, then
// the active configuration's properties file (CLOUDSDK_CONFIG, else ~/.config/gcloud).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ProviderError } from "../errors.js";

export interface GcpSettings {
  project: string;
  /** Zones tried in order on capacity errors (the target's `region:`, else compute/zone). */
  zones: string[];
  /** Base URL below which `projects/…` paths live, e.g. https://compute.googleapis.com/compute/v1 */
  endpoint: string;
  /** gcloud's config dir: where application_default_credentials.json lives. */
  configDir: string;
  /** Where the project came from, for messages. */
  source: string;
}

const DEFAULT_ENDPOINT = "https://compute.googleapis.com/compute/v1";

/** The settings gcloud would use here; `project`/`zones` from the target win. */
export function readGcpSettings(
  env: NodeJS.ProcessEnv = process.env,
  given: { project?: string; zones?: readonly string[] } = {},
): GcpSettings {
  const configDir = env.CLOUDSDK_CONFIG || join(env.HOME || homedir(), ".config", "gcloud");
  const { properties, file } = readActiveConfig(env, configDir);
  const property = (section: string, name: string): string | undefined =>
    nonEmpty(env[`CLOUDSDK_${section}_${name}`.toUpperCase()]) ?? properties[`${section}/${name}`];
  const project = given.project ?? property("core", "project");
  if (project === undefined) {
    throw new ProviderError("config", "no Google Cloud project is set", {
      hint: "set the target's `project:`, run `gcloud config set project PROJECT`, or set CLOUDSDK_CORE_PROJECT",
    });
  }
  const zone = property("compute", "zone");
  const zones = given.zones !== undefined && given.zones.length > 0 ? [...given.zones] : [];
  if (zones.length === 0 && zone !== undefined) zones.push(zone);
  const source =
    given.project !== undefined
      ? "the target"
      : env.CLOUDSDK_CORE_PROJECT
        ? "CLOUDSDK_CORE_PROJECT"
        : (file ?? "gcloud's configuration");
  return {
    project,
    zones,
    endpoint: computeBase(property("api_endpoint_overrides", "compute")),
    configDir,
    source,
  };
}

/** gcloud's override is the API root with its version (`https://host/compute/v1/`); a bare host gets v1. */
export function computeBase(override: string | undefined): string {
  if (override === undefined) return DEFAULT_ENDPOINT;
  const trimmed = override.replace(/\/+$/, "");
  return /\/compute\/(v1|beta|alpha)$/.test(trimmed) ? trimmed : `${trimmed}/compute/v1`;
}

/** The properties (`section/name` → value) of the configuration gcloud has active. */
function readActiveConfig(
  env: NodeJS.ProcessEnv,
  configDir: string,
): { properties: Record<string, string>; file?: string } {
  const active =
    nonEmpty(env.CLOUDSDK_ACTIVE_CONFIG_NAME) ??
    readTrimmed(join(configDir, "active_config")) ??
    "default";
  const file = join(configDir, "configurations", `config_${active}`);
  if (!existsSync(file)) return { properties: {} };
  return { properties: parseIni(readFileSync(file, "utf8")), file };
}

/** gcloud's properties files are INI: `[section]` then `name = value`. */
export function parseIni(text: string): Record<string, string> {
  const properties: Record<string, string> = {};
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      section = header[1].trim();
      continue;
    }
    const eq = line.search(/[=:]/);
    if (eq <= 0) continue;
    properties[`${section}/${line.slice(0, eq).trim()}`] = line.slice(eq + 1).trim();
  }
  return properties;
}

function readTrimmed(path: string): string | undefined {
  try {
    return nonEmpty(readFileSync(path, "utf8").trim());
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
