// The first two phases of a run: connect and resolve the remote dir in one round trip, then sync.
import type { UploadEntry } from "../config/transfer-entries.js";
import { buildProbeScript, type HostFacts, parseProbe } from "../env/probe.js";
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

/** What the host has (CPUs, memory, free disk, Python, GPUs); undefined when the probe itself failed. */
export async function probeHost(
  transport: Transport,
  remoteDir: string,
): Promise<HostFacts | undefined> {
  const result = await transport.exec(buildProbeScript(remoteDir));
  return result.connectionFailed ? undefined : parseProbe(result.stdout);
}

export interface SyncRequest {
  transport: Transport;
  projectDir: string;
  prepared: PreparedTarget;
  ignore: readonly string[];
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

/** Uploads the workspace (ignore rules applied), the extra upload globs, then the explicit mappings. */
export async function syncWorkspace(request: SyncRequest): Promise<SyncOutcome> {
  const { transport, projectDir, prepared, report } = request;
  const started = performance.now();
  const scan = await scanWorkspace(projectDir, request.ignore);
  const extra = await expandUploadGlobs(projectDir, request.upload);
  const scanned = new Set(scan.files);
  const files = [...new Set([...scan.files, ...extra])];
  report({ type: "syncing", files: files.length, bytes: scan.bytes });
  const sent = await uploadFiles({
    transport,
    root: projectDir,
    remoteDir: prepared.remoteDir,
    files,
    excluded: scan.excluded,
    extra: extra.filter((file) => !scanned.has(file)),
    tool: prepared.tool,
  });
  await uploadMapped(transport, projectDir, prepared.remoteDir, prepared.home, request.upload);
  const outcome = {
    tool: sent.tool,
    scanned: files.length,
    transferred: sent.files,
    bytes: sent.bytes,
    ms: elapsed(started),
  };
  report({ type: "synced", ...outcome });
  return outcome;
}
