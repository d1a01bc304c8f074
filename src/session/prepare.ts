// The first two phases of a run: connect and resolve the remote dir in one round trip, then sync.
import type { UploadEntry } from "../config/transfer-entries.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildPrepareScript, parsePrepareOutput } from "../remote/prepare.js";
import { expandUploadGlobs, uploadMapped } from "../sync/extra-uploads.js";
import { scanWorkspace } from "../sync/scan.js";
import { type SyncTool, uploadFiles } from "../sync/upload.js";
import type { Transport } from "../transport/types.js";

export interface PreparedTarget {
  remoteDir: string;
  home: string;
  tool: SyncTool;
}

export function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

/** Connects and resolves the remote dir in one round trip. */
export async function prepareTarget(
  transport: Transport,
  remoteDir: string,
  syncTool: "auto" | SyncTool,
): Promise<PreparedTarget> {
  // The first exec opens the ssh master itself: no separate connect round trip.
  const result = await transport.exec(buildPrepareScript(remoteDir));
  if (result.connectionFailed) throw transport.explain(result);
  const prepared = parsePrepareOutput(result.stdout);
  if (result.code !== 0 || prepared === undefined) {
    throw new OffloadError(
      "E_SYNC",
      `Could not create the remote dir ${remoteDir} on ${transport.label}: ${result.stderr.trim()}`,
      {
        hint: "Choose a writable location with `remote_dir:` in offload.yaml or `--host host/path`.",
      },
    );
  }
  const tool = syncTool === "auto" ? (prepared.rsync ? "rsync" : "tar") : syncTool;
  return { remoteDir: prepared.remoteDir, home: prepared.home, tool };
}

/** What the workspace holds to upload: the scan with ignore rules, plus the extra upload globs. */
export interface ProjectScan {
  files: string[];
  /** Anchored rsync excludes for what the rules left out. */
  excluded: string[];
  /** Files the globs add beyond the scan. */
  extra: string[];
}

/** Local work only, so a run does it while the connect round trip is under way. */
export async function scanProject(
  projectDir: string,
  ignore: readonly string[],
  upload: readonly UploadEntry[],
): Promise<ProjectScan> {
  const scan = await scanWorkspace(projectDir, ignore);
  const globbed = await expandUploadGlobs(projectDir, upload);
  const scanned = new Set(scan.files);
  const extra = [...new Set(globbed.filter((file) => !scanned.has(file)))];
  return { files: [...scan.files, ...extra], excluded: scan.excluded, extra };
}

export interface SyncRequest {
  transport: Transport;
  projectDir: string;
  prepared: PreparedTarget;
  scan: ProjectScan;
  upload: readonly UploadEntry[];
  report: Reporter;
}

export interface SyncOutcome {
  tool: SyncTool;
  scanned: number;
  transferred: number;
  bytes: number;
  ms: number;
}

/** Uploads the scanned workspace, the extra upload globs, then the explicit mappings. */
export async function syncWorkspace(request: SyncRequest): Promise<SyncOutcome> {
  const { transport, projectDir, prepared, report, scan } = request;
  const started = performance.now();
  report({ type: "syncing", files: scan.files.length });
  const sent = await uploadFiles({
    transport,
    root: projectDir,
    remoteDir: prepared.remoteDir,
    files: scan.files,
    excluded: scan.excluded,
    extra: scan.extra,
    tool: prepared.tool,
  });
  await uploadMapped(transport, projectDir, prepared.remoteDir, prepared.home, request.upload);
  const outcome = {
    tool: sent.tool,
    scanned: scan.files.length,
    transferred: sent.files,
    bytes: sent.bytes,
    ms: elapsed(started),
  };
  report({ type: "synced", ...outcome });
  return outcome;
}
