// The `upload`/`download` entry forms (glob, `a|b` mapping, `{from, to}` fallbacks) and the `env` forms,
// read from offload.yaml's words into the entries sync transfers.
import type { DownloadEntry, UploadEntry } from "../sync/entries.js";

export type DownloadInput =
  | string
  | { from: string[]; to: string; every?: number | undefined }
  | { path: string; every: number };
export type EnvInput = Record<string, string | number | boolean> | string[];

const GLOB_CHARS = /[*?[\]{}]/;

function isAbsoluteLike(path: string): boolean {
  return path.startsWith("/") || path.startsWith("~");
}

function escapesUp(path: string): boolean {
  return path.split("/").includes("..");
}

/** Why a `upload`/`download` string is unusable, or undefined when it is fine. */
export function checkTransferString(
  text: string,
  direction: "upload" | "download",
): string | undefined {
  if (text.trim() === "") return "an empty path";
  const parts = text.split("|");
  if (parts.length > 2) return "a mapping has exactly one `|`";
  if (parts.length === 2) {
    const [from = "", to = ""] = parts;
    if (from.trim() === "" || to.trim() === "") return "both sides of `|` must be paths";
    if (GLOB_CHARS.test(text)) return "a `from|to` mapping takes no wildcards";
    return undefined;
  }
  const side = direction === "upload" ? "the project" : "the remote dir";
  if (isAbsoluteLike(text))
    return `a glob must be relative to ${side} (use \`from|to\` for other paths)`;
  if (escapesUp(text)) return `a glob may not leave ${side} with \`..\``;
  return undefined;
}

export function toUploadEntry(text: string): UploadEntry {
  const [local, remote] = text.split("|");
  if (remote === undefined || local === undefined) return { kind: "glob", pattern: text };
  return { kind: "map", local: local.trim(), remote: remote.trim() };
}

export function toDownloadEntry(input: DownloadInput): DownloadEntry {
  if (typeof input !== "string") {
    const every = input.every === undefined ? {} : { every: input.every };
    if ("path" in input) return { ...toDownloadEntry(input.path), ...every };
    return { kind: "fallback", from: [...input.from], to: input.to, ...every };
  }
  const [remote, local] = input.split("|");
  if (remote === undefined || local === undefined) return { kind: "glob", pattern: input };
  return { kind: "map", remote: remote.trim(), local: local.trim() };
}

/** Both mltk forms: `{ KEY: value }` or `["KEY=value"]`. Later duplicates in a list win, as in a shell. */
export function toEnvMap(input: EnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  if (Array.isArray(input)) {
    for (const item of input) {
      const eq = item.indexOf("=");
      env[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return env;
  }
  for (const [key, value] of Object.entries(input)) env[key] = String(value);
  return env;
}
