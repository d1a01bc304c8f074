// The first two phases of a run: connect and resolve the remote dir in one round trip (taking its lock),
// then sync the workspace that project-scan.ts listed meanwhile.
import { msSince, systemClock } from "../context.js";
import type { Reporter } from "../events.js";
import { isUnlaunchedHolder, type LockRequest, readLockReply } from "../remote/lock.js";
import { buildPrepareScript, parsePrepareOutput } from "../remote/prepare.js";
import { readSyncProof, type SyncProofRequest } from "../remote/sync-proof.js";
import { quoteShell } from "../shell/quote.js";
import type { UploadEntry } from "../sync/entries.js";
import { uploadMapped } from "../sync/extra-uploads.js";
import { chooseUploadTool } from "../sync/first-sync.js";
import { planRemovals, readManifest, removeRemote, writeManifest } from "../sync/mirror.js";
import { writeSyncState } from "../sync/sync-state.js";
import { type SyncTool, uploadFiles } from "../sync/upload.js";
import { hasLocalProgram } from "../transport/programs.js";
import type { Transport } from "../transport/types.js";
import { noteHeldHead, readGnuHeadBoot } from "./held-head.js";
import { execPrepare, type HeldLaunch, type PrepareReply } from "./held-launch.js";
import { untarHeld } from "./held-upload.js";
import { forceRefusedError, lockedError, parseHolder } from "./lock.js";
import { findDeadLocalHolder, localOrigin } from "./lock-origin.js";
import type { ProjectScan } from "./project-scan.js";
import { remoteDirError } from "./remote-dir-error.js";

export interface PreparedTarget {
  remoteDir: string;
  home: string;
  /** The transfer tool (downloads, later syncs). */
  tool: SyncTool;
  /** This run's upload: a tar stream for a first sync into an empty dir (sync/first-sync.ts). */
  upload: SyncTool;
  /** The remote dir held nothing but offload's state: no deletions to mirror there. */
  empty: boolean;
  /** The remote dir was empty and its host's tar is GNU tar (sync/first-sync.ts). */
  gnuTar: boolean;
  /** The address this connection reached the host at ("" for a local shell): `PreparedHost.reached`. */
  reached: string;
  /** The host's boot id ("" where unknown): `PreparedHost.bootId`. */
  bootId: string;
  /** The host proved the last sync's files unchanged (a `sync.proof` was asked for and held). */
  unchanged: boolean;
  /** The prepare's connection, kept by the host for the launch it was given (held-launch.ts). */
  held?: HeldLaunch | undefined;
}

/**
 * Connects and resolves the remote dir in one round trip; with `lock`, takes the remote dir's lock there
 * too (a refusal is E_LOCKED with nothing changed) and reports a reclaimed or forced lock.
 */
export async function prepareTarget(
  transport: Transport,
  remoteDir: string,
  syncTool: "auto" | SyncTool,
  lock?: LockRequest & { report: Reporter },
  /**
   * A run that syncs: stamp the remote dir for its sync, or have the host prove `proof`; with `held`
   * (a launch script), a host that proves it keeps the connection for that launch; with `nodeHold` (a
   * node of a job across hosts), the host keeps it for the node's upload and launch, whatever they are.
   */
  sync?: { proof?: SyncProofRequest | undefined; held?: string | undefined; nodeHold?: boolean },
): Promise<PreparedTarget> {
  const lockRequest = lock && {
    runId: lock.runId,
    force: lock.force,
    graceSeconds: lock.graceSeconds,
    origin: localOrigin(),
    reclaim: lock.reclaim,
  };
  const holding = sync?.held && buildPrepareScript(remoteDir, lockRequest, sync);
  // The script reaches the remote shell as one quoted argument (at most 128 KiB on Linux): a launch
  // that would not fit beside the proof is not held.
  const fits = holding && Buffer.byteLength(quoteShell(holding)) <= HELD_SCRIPT_LIMIT;
  const nodeHold = lockRequest !== undefined && sync?.nodeHold === true;
  const gnuHeadBoot = nodeHold ? readGnuHeadBoot(transport) : undefined;
  const script = fits
    ? holding
    : buildPrepareScript(
        remoteDir,
        lockRequest,
        sync && { proof: sync.proof, nodeHold, gnuHeadBoot },
      );
  const hold =
    fits && sync?.held ? { launch: sync.held } : nodeHold ? { node: true as const } : undefined;
  // The first exec opens the ssh master itself: no separate connect round trip.
  const reply = await execPrepare(transport, script, hold);
  // The holder is an offload of this machine that is gone (killed between its sync and its launch):
  // asked again, taking its lock at once rather than after its heartbeat goes stale.
  const locked = readLockReply(reply.result.stderr).locked;
  const dead = lock && !lock.force && !lock.reclaim && locked && findDeadLocalHolder(locked);
  if (lock && dead) {
    await reply.held?.decline();
    return prepareTarget(transport, remoteDir, syncTool, { ...lock, reclaim: dead }, sync);
  }
  try {
    const prepared = await readPrepared(transport, remoteDir, syncTool, reply, { lock, sync });
    if (reply.held?.node)
      noteHeldHead(transport, reply.result.stderr, gnuHeadBoot, prepared.bootId);
    return prepared;
  } catch (error) {
    await reply.held?.decline();
    throw error;
  }
}

/** Bytes of a quoted prepare script that also carries a launch, with room for ssh's own words. */
const HELD_SCRIPT_LIMIT = 120 * 1024;

async function readPrepared(
  transport: Transport,
  remoteDir: string,
  syncTool: "auto" | SyncTool,
  { result, held }: PrepareReply,
  {
    lock,
    sync,
  }: { lock?: { report: Reporter } | undefined; sync?: { proof?: unknown } | undefined },
): Promise<PreparedTarget> {
  if (result.connectionFailed) throw transport.explain(result);
  const markers = readLockReply(result.stderr);
  if (markers.locked !== undefined) {
    const unproven = markers.unproven;
    throw unproven === undefined
      ? lockedError(transport, remoteDir, markers.locked)
      : forceRefusedError(transport, remoteDir, markers.locked, unproven);
  }
  if (markers.reclaimed)
    lock?.report({ type: "lock-reclaimed", ...parseHolder(markers.reclaimed) });
  if (markers.forced)
    lock?.report({
      type: "lock-forced",
      ...parseHolder(markers.forced),
      ...(isUnlaunchedHolder(markers.forced) ? { unlaunched: true } : {}),
    });
  const prepared = parsePrepareOutput(result.stdout);
  if (result.code !== 0 || prepared === undefined)
    throw remoteDirError(transport, remoteDir, result.stderr);
  // rsync runs at both ends and speaks its protocol over ssh's stdout: "auto" takes it only where this
  // machine has it too and the host's login shell printed nothing before this round trip's start mark
  // (an `echo` in ~/.bashrc breaks rsync's protocol, upload and download); tar otherwise, framed.
  const bothHaveRsync = prepared.rsync && hasLocalProgram("rsync");
  const quiet = transport.cleanStdout !== false;
  const tool = syncTool === "auto" ? (bothHaveRsync && quiet ? "rsync" : "tar") : syncTool;
  const upload = await chooseUploadTool(syncTool, tool, prepared);
  return {
    remoteDir: prepared.remoteDir,
    home: prepared.home,
    tool,
    upload,
    empty: prepared.empty,
    gnuTar: prepared.gnuTar,
    reached: prepared.reached,
    bootId: prepared.bootId,
    unchanged: sync?.proof !== undefined && readSyncProof(result.stderr),
    held,
  };
}

export interface SyncRequest {
  transport: Transport;
  projectDir: string;
  prepared: PreparedTarget;
  scan: ProjectScan;
  upload: readonly UploadEntry[];
  report: Reporter;
  /** The manifest of what was synced to this target's remote dir (src/sync/mirror.ts). */
  manifest: string;
  /** This run's id and where what it sends is recorded for the next run (src/sync/sync-state.ts). */
  state?: { runId: string; path: string } | undefined;
}

export interface SyncOutcome {
  tool: SyncTool;
  scanned: number;
  transferred: number;
  bytes: number;
  /** Files synced before and gone here since, removed remotely. */
  removed: number;
  ms: number;
}

/**
 * Removes remotely what an earlier sync sent and is gone here, then records what this sync sends: before
 * the upload, so a manifest never misses a file that reached the host.
 */
async function mirrorDeletions(request: SyncRequest): Promise<number> {
  const { transport, projectDir, prepared, scan } = request;
  const previous = await readManifest(request.manifest);
  let removed = 0;
  if (previous !== undefined && !prepared.empty) {
    const removals = planRemovals(previous, scan.files, projectDir, scan.ignores);
    if (removals.files.length + removals.dirs.length > 0) {
      await removeRemote(transport, prepared.remoteDir, removals);
      removed = removals.files.length;
    }
  }
  const same =
    previous !== undefined &&
    previous.length === scan.files.length &&
    previous.every((file, index) => file === scan.files[index]);
  if (!same) await writeManifest(request.manifest, scan.files);
  return removed;
}

/**
 * Uploads the scanned workspace, the extra upload globs, then the explicit mappings. The workspace is
 * not sent when the host proved the last sync's files unchanged and the scan finds them as they were
 * sent (same paths, sizes, mtimes, modes); otherwise what it sends is recorded for the next run.
 */
export async function syncWorkspace(request: SyncRequest): Promise<SyncOutcome> {
  const { transport, projectDir, prepared, report, scan, state } = request;
  const started = performance.now();
  report({ type: "syncing", files: scan.files.length });
  const removed = await mirrorDeletions(request);
  const unchanged = prepared.unchanged && scan.asLastSynced && removed === 0;
  // A launch held for an unchanged workspace cannot follow a sync: let the host's shell go now. A node's
  // hold waits through the sync (its first sync's archive may even go down it).
  if (!unchanged && !prepared.held?.node) void prepared.held?.decline();
  const sending = Date.now();
  const sent = unchanged
    ? { tool: prepared.upload, files: 0, bytes: 0 }
    : ((await untarHeld(transport, prepared, scan.archive, scan.files.length)) ??
      (await uploadFiles({
        transport,
        root: projectDir,
        remoteDir: prepared.remoteDir,
        files: scan.files,
        tree: scan.tree,
        excluded: scan.excluded,
        extra: scan.extra,
        tool: prepared.upload,
        ...(scan.archive ? { archive: scan.archive } : {}),
        remoteGnuTar: prepared.gnuTar,
        onProgress: (progress) => report({ type: "transfer", direction: "upload", ...progress }),
      })));
  let sentBytes = sent.bytes;
  if (!unchanged && state !== undefined) {
    const synced = { syncedBy: state.runId, remoteDir: prepared.remoteDir, files: scan.files };
    const size = await writeSyncState(state.path, projectDir, synced, sending);
    // tar says nothing of the bytes it sent: the files' sizes, as the state read them, stand in.
    if (sent.tool === "tar" && size !== undefined) sentBytes = size;
  }
  await uploadMapped(transport, projectDir, prepared.remoteDir, prepared.home, request.upload);
  const outcome = {
    tool: sent.tool,
    scanned: scan.files.length,
    transferred: sent.files,
    bytes: sentBytes,
    removed,
    ms: msSince(systemClock, started),
  };
  report({ type: "synced", ...outcome });
  return outcome;
}
