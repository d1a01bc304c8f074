// Brings a run's outputs home: lists what the rules match on the far side in one round trip
// (download-listing.ts), then copies (download-transfer.ts) and places the mapped rules' files.
import { copyFile, mkdir, rename, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { OffloadError } from "../errors.js";
import { runProcess } from "../transport/process.js";
import { downloadError, droppedError, transferError } from "./download-errors.js";
import { buildListingScript, parseListing } from "./download-listing.js";
import { type DownloadPlan, isContainedPath } from "./download-plan.js";
import { collectStaleTemps, tempPath } from "./download-temps.js";
import { fetchFiles, isRegularFile, type TransferRequest } from "./download-transfer.js";
import { expandLocal } from "./local-path.js";
import { buildRsyncOneArgv } from "./rsync.js";

export interface DownloadRequest extends TransferRequest {
  plan: DownloadPlan;
  /** Where relative local paths of mapped rules are anchored (the project root). */
  projectDir: string;
  /**
   * `remoteDir` is the physical path the run launched in: the download refuses where it now leads
   * elsewhere (the job replaced it by a symlink), instead of fetching from wherever that points.
   */
  physicalDir?: boolean;
  /** A check the host makes in the listing's round trip, before anything is listed or fetched. */
  guard?: DownloadGuard | undefined;
}

/**
 * Shell lines run in the remote dir before the listing; a non-zero exit stops the download there, and
 * `refusal` turns what they said on stderr into the error to throw (undefined: not theirs).
 */
export interface DownloadGuard {
  lines: readonly string[];
  refusal: (stderr: string) => OffloadError | undefined;
}

export interface DownloadResult {
  /** Paths relative to the artifacts dir. */
  artifacts: string[];
  /** Local paths written by mapped rules. */
  mappedFiles: string[];
  /** Rules that matched nothing, for a notice. */
  missing: string[];
  /** Symlinks the rules met: never followed, never fetched. */
  skipped: string[];
}

/** Copies a file next to its destination, then renames it into place: never half a file at `dest`. */
async function placeFile(source: string, dest: string): Promise<void> {
  let target = dest;
  const isDir =
    dest.endsWith("/") ||
    (await stat(dest).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  if (isDir) target = join(dest, basename(source));
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPath(target);
  await copyFile(source, temp);
  await rename(temp, target);
}

export async function downloadArtifacts(request: DownloadRequest): Promise<DownloadResult> {
  const { transport, remoteDir, plan, artifactsDir, projectDir } = request;
  await collectStaleTemps(artifactsDir, true);
  for (const rule of plan.mapped) {
    const local = expandLocal(rule.local, projectDir);
    await collectStaleTemps(rule.local.endsWith("/") ? local : dirname(local), false);
  }
  const listed = await transport.exec(
    buildListingScript(remoteDir, plan, request.physicalDir === true, request.guard?.lines),
  );
  if (listed.connectionFailed) throw droppedError(transport, transport.explain(listed));
  if (listed.code !== 0)
    throw request.guard?.refusal(listed.stderr) ?? downloadError(transport.label, listed.stderr);
  const listing = parseListing(listed.stdout, plan);
  const missing = plan.globs
    .filter((glob) => !listing.files.some(glob.match) && !listing.links.some(glob.match))
    .map((glob) => glob.pattern);
  const skipped = [...listing.links];

  const wanted = new Set(listing.files);
  const mappedArtifacts = new Map<number, string>();
  for (const [index, remotePath] of listing.mapped) {
    const relative = remotePath.startsWith(`${remoteDir}/`)
      ? remotePath.slice(remoteDir.length + 1)
      : undefined;
    if (relative !== undefined && isContainedPath(relative)) {
      wanted.add(relative);
      mappedArtifacts.set(index, relative);
    }
  }
  await fetchFiles(request, [...wanted], listing.big);

  const mappedFiles: string[] = [];
  for (const [index, rule] of plan.mapped.entries()) {
    const remotePath = listing.mapped.get(index);
    if (remotePath === undefined) {
      missing.push(rule.candidates.join(" or "));
      continue;
    }
    if (remotePath === "") {
      skipped.push(rule.candidates.join(" or "));
      continue;
    }
    let relative = mappedArtifacts.get(index);
    if (relative === undefined) {
      // Outside the remote dir (an explicit absolute mapping): keep it in artifacts under its own name.
      relative = basename(remotePath);
      await mkdir(artifactsDir, { recursive: true });
      const shell = transport.remoteShell();
      const result = await runProcess(
        buildRsyncOneArgv(shell, shell.remotePath(remotePath), join(artifactsDir, relative), {
          links: false,
        }),
      );
      if (result.code !== 0) throw transferError(transport, result.code, result.stderr);
    }
    // Only a regular file is copied home: copying a symlink would read whatever it names HERE.
    if (!(await isRegularFile(join(artifactsDir, relative)))) {
      skipped.push(rule.candidates.join(" or "));
      continue;
    }
    const local = expandLocal(rule.local, projectDir);
    await placeFile(join(artifactsDir, relative), local);
    mappedFiles.push(local);
  }
  const artifacts = [...wanted].sort();
  return { artifacts: await existing(artifactsDir, artifacts), mappedFiles, missing, skipped };
}

async function existing(dir: string, files: string[]): Promise<string[]> {
  const kept: string[] = [];
  for (const file of files) if (await isRegularFile(join(dir, file))) kept.push(file);
  return kept;
}
