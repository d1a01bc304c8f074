// This machine's half of skipping an unchanged sync: what the last sync to a target's remote dir sent,
// with each file's size, mtime and mode as they were when it was sent, kept beside the manifest
// (`.offload/synced/<key>.state`). A run whose scan finds the same files with the same stats, and whose
// host proves that nothing it received changed since (remote/sync-proof.ts), sends nothing.
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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

/** `size:mtimeMs:mode` of a file as it is now (a symlink's own), or undefined when it cannot be read. */
function statOf(root: string, path: string, changedBefore?: number): string | undefined {
  try {
    // The path as text where it can be: a Buffer per file took 2,000 stats from ~120 to ~200 ms (cold
    // process, load 14; measured).
    const stat = lstatSync(isPlainName(path) ? join(root, path) : encodePath(join(root, path)));
    if (changedBefore !== undefined && stat.ctimeMs >= changedBefore) return undefined;
    return `${stat.size}:${stat.mtimeMs}:${stat.mode}`;
  } catch {
    return undefined;
  }
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
 * Returns the files' total size where it kept a state (a tar stream reports no size of its own).
 */
export async function writeSyncState(
  path: string,
  root: string,
  state: Omit<SyncState, "stats">,
  startedMs: number,
): Promise<number | undefined> {
  const stats: string[] = [];
  const provable =
    state.files.length <= MAX_PROVEN_FILES &&
    state.files.every((file) => {
      if (!isPlainName(file)) return false;
      const stat = statOf(root, file, startedMs - 1000);
      if (stat !== undefined) stats.push(stat);
      return stat !== undefined;
    });
  if (!provable) {
    rmSync(path, { force: true });
    return undefined;
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ ...state, stats }));
  renameSync(temp, path);
  // Regular files only, as rsync counts ("Total transferred file size"): a symlink's size is its target's.
  let total = 0;
  for (const stat of stats) {
    const [size, , mode] = stat.split(":");
    if ((Number(mode) & 0o170000) === 0o100000) total += Number(size);
  }
  return total;
}
