// Finds and reads the project's offload.yaml and the user's config.yaml, then merges them with the CLI's.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { OffloadError } from "../errors.js";
import { mergeSettings } from "./merge.js";
import type { Settings } from "./schema.js";
import type { LoadedSettings, SettingsLayer } from "./settings.js";
import { validateSettings } from "./validate.js";

export const PROJECT_FILE = "offload.yaml";

export interface LoadOptions {
  projectDir: string;
  /** What flags said, in offload.yaml's own shape; local paths in it should be absolute. */
  cli?: Partial<Settings>;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
}

/** `$XDG_CONFIG_HOME/offload/config.yaml`; the XDG spec says to ignore a relative XDG_CONFIG_HOME. */
export function findUserSettingsFile(env: NodeJS.ProcessEnv, homeDir: string): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homeDir, ".config");
  return join(base, "offload", "config.yaml");
}

/** How a file is named in messages: `~/…` under home, as given otherwise. */
export function labelFile(path: string, homeDir: string): string {
  const inHome = relative(homeDir, path);
  if (inHome !== "" && !inHome.startsWith("..") && !isAbsolute(inHome))
    return `~/${inHome.split(sep).join("/")}`;
  return path;
}

async function readOptional(path: string, label: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new OffloadError(
      "E_CONFIG_VALUE",
      `${label}: can't be read: ${(error as Error).message}`,
      {
        hint: "Make it a readable file, or remove it.",
        cause: error,
      },
    );
  }
}

async function readLayer(
  kind: "project" | "user",
  path: string,
  label: string,
): Promise<SettingsLayer | undefined> {
  const text = await readOptional(path, label);
  if (text === undefined) return undefined;
  // The YAML parser is a quarter of the bundle: read only where there is a file to parse.
  const { parseSettingsText } = await import("./parse-file.js");
  const { data, lines } = parseSettingsText(text, label);
  return { kind, data, lines, file: label, dir: dirname(path) };
}

/** Loads every settings layer and merges them: CLI > offload.yaml (> its named target) > user > default. */
export async function loadSettings(options: LoadOptions): Promise<LoadedSettings> {
  const homeDir = options.homeDir ?? homedir();
  const env = options.env ?? process.env;
  const userPath = findUserSettingsFile(env, homeDir);
  const user = await readLayer("user", userPath, labelFile(userPath, homeDir));
  const project = await readLayer("project", join(options.projectDir, PROJECT_FILE), PROJECT_FILE);
  const input: Parameters<typeof mergeSettings>[0] = { projectDir: options.projectDir, homeDir };
  if (user !== undefined) input.user = user;
  if (project !== undefined) input.project = project;
  if (options.cli !== undefined) input.cli = validateSettings(options.cli, "command line");
  return mergeSettings(input);
}
