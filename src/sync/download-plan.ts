// Turns download entries into a plan (pure): globs relative to the remote dir, `remote|local` mappings,
// and fallback lists (first remote candidate that exists wins). Refuses paths that could escape.
import picomatch from "picomatch";
import { OffloadError } from "../errors.js";
import type { DownloadEntry } from "./entries.js";
import { GLOB_OPTIONS } from "./glob.js";

export interface GlobRule {
  pattern: string;
  /** Directory below the remote dir that holds every match, "." for the whole dir. */
  base: string;
  match: (path: string) => boolean;
}

/** One remote file (first existing of `candidates`) that goes to `local`, a path on this machine. */
export interface MappedRule {
  candidates: string[];
  local: string;
}

export interface DownloadPlan {
  globs: GlobRule[];
  mapped: MappedRule[];
}

function refuseEscape(path: string, rule: string): void {
  const segments = path.split("/");
  if (path.startsWith("/") || path.startsWith("~") || segments.includes("..")) {
    throw new OffloadError(
      "E_PATH_ESCAPE",
      `Download rule \`${rule}\` points outside the remote dir.`,
      {
        hint: "Glob rules are relative to the remote dir and may not use `..` or absolute paths; to fetch a file from elsewhere, map it explicitly: `/abs/remote/file|local/path`.",
      },
    );
  }
}

function planGlob(pattern: string): GlobRule {
  const clean = pattern.replace(/^\.\//, "");
  refuseEscape(clean, pattern);
  const scan = picomatch.scan(clean);
  const base = scan.isGlob ? scan.base || "." : clean;
  return { pattern: clean, base, match: picomatch(clean, GLOB_OPTIONS) };
}

/** A rule given twice (flag and offload.yaml, or a repeated flag) is one rule: fetched and reported once. */
function dedupeEntries(entries: readonly DownloadEntry[]): DownloadEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key =
      entry.kind === "glob"
        ? JSON.stringify(["glob", entry.pattern.replace(/^\.\//, "")])
        : JSON.stringify(entry);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function planDownloads(entries: readonly DownloadEntry[]): DownloadPlan {
  const plan: DownloadPlan = { globs: [], mapped: [] };
  for (const entry of dedupeEntries(entries)) {
    if (entry.kind === "glob") plan.globs.push(planGlob(entry.pattern));
    else if (entry.kind === "map")
      plan.mapped.push({ candidates: [entry.remote], local: entry.local });
    else plan.mapped.push({ candidates: [...entry.from], local: entry.to });
  }
  return plan;
}

/** A listed remote path is safe to place below a local directory: relative, no `..`, no empty parts. */
export function isContainedPath(path: string): boolean {
  if (path === "" || path.startsWith("/")) return false;
  return path.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}
