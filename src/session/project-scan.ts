// What a run uploads, found on this machine while its connect round trip is under way: the workspace
// walked with the ignore rules, the extra upload globs, and whether the files are as the last sync sent.
import type { UploadEntry } from "../sync/entries.js";
import { expandUploadGlobs } from "../sync/extra-uploads.js";
import { scanWorkspace } from "../sync/scan.js";
import { matchesSyncState, type SyncState } from "../sync/sync-state.js";
import { localRsyncShowsProgress } from "../transport/rsync-version.js";

/** What the workspace holds to upload: the scan with ignore rules, plus the extra upload globs. */
export interface ProjectScan {
  files: string[];
  /** Directories and files in walk order, then the extra files: what a tar upload lists. */
  tree: string[];
  /** Anchored rsync excludes for what the rules left out. */
  excluded: string[];
  /** Files the globs add beyond the scan. */
  extra: string[];
  ignores(path: string): boolean;
  /** The files are those the last sync sent, as it sent them (src/sync/sync-state.ts). */
  asLastSynced: boolean;
  /** A tar upload's archive made once for several hosts (undefined: too big, each host streams its own). */
  archive?: () => Promise<Uint8Array | undefined>;
}

/** What the workspace holds, before any host's last sync is compared: the same for every node of a job. */
export type ProjectListing = Omit<ProjectScan, "asLastSynced">;

/** Walks the workspace with the ignore rules and adds the extra upload globs. */
export async function listProject(
  projectDir: string,
  ignore: readonly string[],
  upload: readonly UploadEntry[],
): Promise<ProjectListing> {
  const scan = await scanWorkspace(projectDir, ignore);
  const globbed = await expandUploadGlobs(projectDir, upload);
  const scanned = new Set(scan.files);
  const extra = [...new Set(globbed.filter((file) => !scanned.has(file)))];
  return {
    files: [...scan.files, ...extra],
    tree: [...scan.tree, ...extra],
    excluded: scan.excluded,
    extra,
    ignores: scan.ignores,
  };
}

/**
 * Local work only, so a run does it while the connect round trip is under way. `listing` is one made
 * already (a job across nodes lists the workspace once for all of them).
 */
export async function scanProject(
  projectDir: string,
  ignore: readonly string[],
  upload: readonly UploadEntry[],
  lastSync?: SyncState,
  listing: Promise<ProjectListing> = listProject(projectDir, ignore, upload),
): Promise<ProjectScan> {
  const listed = await listing;
  const files = listed.files;
  const asLastSynced = lastSync !== undefined && matchesSyncState(projectDir, files, lastSync);
  // Asked now, while the connect is under way, where an upload is likely: it reads whether rsync prints
  // progress. An unchanged workspace spares the process start.
  if (!asLastSynced) localRsyncShowsProgress().catch(() => {});
  return { ...listed, asLastSynced };
}
