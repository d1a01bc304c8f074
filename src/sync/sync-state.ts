// This machine's half of skipping an unchanged sync: what the last sync to a target's remote dir sent,
// with each file's size, mtime and mode as they were when it was sent, kept beside the manifest
// (`.offload/synced/<key>.state`). A run whose scan finds the same files with the same stats, and whose
// host proves that nothing it received changed since (remote/sync-proof.ts), sends nothing.
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { encodePath, isPlainName } from "./raw-names.js";

/** Above this many files the stats cost a run more than an rsync no-op saves; they are synced each time. */
export const MAX_PROVEN_FILES = 2000;

export interface SyncState {
  /** The run whose sync sent these files (its prepare wrote the remote stamp). */
  syncedBy: string;
  /** The remote dir as that run's prepare resolved it. */
  remoteDir: string;
  /** Relative paths in scan order, and each one's `size:mtimeMs:mode` when it was sent. */
  files: string[];
  stats: string[];
}

/** The state of `remoteDir` (as the settings give it, `~` and all) on the target named by `target`. */
export function syncStatePath(projectDir: string, target: string, remoteDir: string): string {
  const key = createHash("sha256").update(`${target}\0${remoteDir}`).digest("hex").slice(0, 16);
  return join(projectDir, ".offload", "synced", `${key}.state`);
}

/** Undefined when there is none, or it cannot be read whole: the run then syncs. */
export function readSyncState(path: string): SyncState | undefined {
  try {
    const state = JSON.parse(readFileSync(path, "utf8")) as SyncState;
    const valid =
      typeof state.syncedBy === "string" &&
      typeof state.remoteDir === "string" &&
      Array.isArray(state.files) &&
      Array.isArray(state.stats) &&
      state.files.length === state.stats.length;
    return valid ? state : undefined;
  } catch {
    return undefined;
  }
}

/** A file's own status (a symlink's, not its target's), or undefined when it cannot be read. */
function lstatOf(root: string, path: string): Stats | undefined {
  try {
    // The path as text where it can be: a Buffer per file took 2,000 stats from ~120 to ~200 ms (cold
    // process, load 14; measured).
    return lstatSync(isPlainName(path) ? join(root, path) : encodePath(join(root, path)));
  } catch {
    return undefined;
  }
}

/** `size:mtimeMs:mode` of a file as it is now, as the state keeps it. */
function statOf(root: string, path: string): string | undefined {
  const stat = lstatOf(root, path);
  return stat && `${stat.size}:${stat.mtimeMs}:${stat.mode}`;
}

/** Whether the workspace holds exactly the files of `state`, each with the stats it was sent with. */
export function matchesSyncState(
  root: string,
  files: readonly string[],
  state: SyncState,
): boolean {
  if (files.length !== state.files.length) return false;
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as string;
    if (file !== state.files[i] || statOf(root, file) !== state.stats[i]) return false;
  }
  return true;
}

/**
 * Records what a sync that started at `startedMs` sent. A file whose status changed after that (less a
 * second for coarse clocks) may have changed after the sync read it: then no state is kept, and the
 * next run syncs. Names that are not UTF-8 and large workspaces keep none either. Written whole or not at
 * all (temp file + rename), with synchronous calls: the sync phase waits on them, and each asynchronous
 * one is a thread-pool round trip (several ms apiece on a loaded machine; src/sync/mirror.ts).
 * Returns the regular files' total size (a tar stream reports no size of its own), undefined only for a
 * workspace too large to stat here.
 */
export async function writeSyncState(
  path: string,
  root: string,
  state: Omit<SyncState, "stats">,
  startedMs: number,
): Promise<number | undefined> {
  if (state.files.length > MAX_PROVEN_FILES) {
    rmSync(path, { force: true });
    return undefined;
  }
  const stats: string[] = [];
  // Regular files only, as rsync counts ("Total transferred file size"): a symlink's size is its target's.
  // Counted whether or not the state can prove anything: a file edited within the last second still
  // went, and its bytes with it.
  let total = 0;
  let provable = true;
  for (const file of state.files) {
    const stat = lstatOf(root, file);
    if (stat === undefined) {
      provable = false;
      continue;
    }
    if (stat.isFile()) total += stat.size;
    if (!isPlainName(file) || stat.ctimeMs >= startedMs - 1000) provable = false;
    stats.push(`${stat.size}:${stat.mtimeMs}:${stat.mode}`);
  }
  if (!provable) {
    rmSync(path, { force: true });
    return total;
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ ...state, stats }));
  renameSync(temp, path);
  return total;
}
