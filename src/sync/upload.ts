// Uploads the workspace to the remote dir: rsync over the transport's master, or tar over ssh for a first
// sync into an empty dir (first-sync.ts) and where either end has no rsync. File names travel
// NUL-separated, so any name a file system allows survives.
import { OffloadError } from "../errors.js";
import { quoteShell } from "../shell/quote.js";
import { runPipeline } from "../transport/pipeline.js";
import { runProcess } from "../transport/process.js";
import { localRsyncShowsProgress } from "../transport/rsync-version.js";
import { localTarIsGnu } from "../transport/tar-version.js";
import type { Transport } from "../transport/types.js";
import { buildTarCreateArgv, buildTarExtractCommand } from "./first-sync.js";
import { encodeNulList } from "./raw-names.js";
import {
  buildRsyncFilesArgv,
  buildRsyncTreeArgv,
  isShellNoise,
  parseRsyncProgress,
  parseRsyncStats,
  SHELL_NOISE_HINT,
  type TransferProgress,
  type TransferStats,
} from "./rsync.js";

export type SyncTool = "rsync" | "tar";

export interface UploadRequest {
  transport: Transport;
  /** Local directory the paths are relative to. */
  root: string;
  /** Absolute remote directory. */
  remoteDir: string;
  files: readonly string[];
  /** tar only: the scan's directories and files in walk order (scan.ts), then `files` beyond the scan. */
  tree: readonly string[];
  /** rsync only: anchored exclude patterns; rsync recurses the root itself and skips these. */
  excluded: readonly string[];
  /** rsync only: files outside what the recursion covers (upload globs reaching ignored paths). */
  extra: readonly string[];
  tool: SyncTool;
  /** tar only: the archive of `tree`, made once for several hosts (sync/tar-archive.ts); undefined: stream one. */
  archive?: () => Promise<Uint8Array | undefined>;
  /** tar only: the remote tar is GNU tar (the prepare round trip says so of an empty dir). */
  remoteGnuTar?: boolean;
  /** Called as rsync reports how far the copy is (where this machine's rsync can say). */
  onProgress?: (progress: TransferProgress) => void;
}

export async function uploadFiles(
  request: UploadRequest,
): Promise<TransferStats & { tool: SyncTool }> {
  const { transport, root, remoteDir, files, tool } = request;
  if (files.length === 0) return { files: 0, bytes: 0, tool };
  const shell = transport.remoteShell();
  if (tool === "rsync") {
    const onProgress = request.onProgress;
    const progress = onProgress !== undefined && (await localRsyncShowsProgress());
    const argv = buildRsyncTreeArgv(shell, ".", shell.remotePath(remoteDir), { progress });
    const stdout: Buffer[] = [];
    const result = await runProcess(argv, {
      cwd: root,
      stdin: encodeNulList(request.excluded),
      ...(progress && onProgress
        ? {
            onStdout: (chunk: Buffer) => {
              stdout.push(chunk);
              const report = parseRsyncProgress(chunk.toString("latin1"));
              if (report !== undefined) onProgress(report);
            },
          }
        : {}),
    });
    if (result.code !== 0) throw syncError(transport, result.code, result.stderr);
    const stats = parseRsyncStats(
      progress ? Buffer.concat(stdout).toString("utf8") : result.stdout,
    );
    if (request.extra.length > 0) {
      const more = await runProcess(buildRsyncFilesArgv(shell, ".", shell.remotePath(remoteDir)), {
        cwd: root,
        stdin: encodeNulList(request.extra),
      });
      if (more.code !== 0) throw syncError(transport, more.code, more.stderr);
      const extraStats = parseRsyncStats(more.stdout);
      stats.files += extraStats.files;
      stats.bytes += extraStats.bytes;
    }
    return { ...stats, tool };
  }
  // "." first: the remote dir takes the root's mode, as with rsync. The prepare round trip made it.
  const extract = buildTarExtractCommand(quoteShell(remoteDir), request.remoteGnuTar === true);
  const unpack = shell.shellArgv(`sh -c ${quoteShell(extract)}`);
  const archive = await request.archive?.();
  const result = archive
    ? await runProcess(unpack, { stdin: archive })
    : await runPipeline(buildTarCreateArgv(await localTarIsGnu()), unpack, {
        stdin: encodeNulList([".", ...request.tree]),
        producerCwd: root,
      });
  if (result.code !== 0) throw syncError(transport, result.code, result.stderr);
  return { files: files.length, bytes: 0, tool };
}

export function syncError(transport: Transport, code: number, stderr: string): OffloadError {
  const detail = stderr.trim().split("\n").slice(-3).join("\n");
  if (isShellNoise(stderr))
    return new OffloadError(
      "E_SHELL_NOISE",
      `Uploading the workspace to ${transport.label} failed: the remote shell is not clean (status ${code}):\n${detail}`,
      { hint: SHELL_NOISE_HINT },
    );
  // dash says "sh: 1: exec: tar: not found", bash "tar: command not found"; rsync's server the same.
  const missing = /\b(tar|rsync): (command )?not found/.exec(stderr)?.[1];
  if (missing !== undefined)
    return new OffloadError(
      "E_SYNC",
      `Uploading the workspace to ${transport.label} failed: the host has no \`${missing}\` on its PATH (status ${code}); nothing was started.`,
      {
        hint:
          missing === "tar"
            ? "Install rsync or tar on the host (Debian/Ubuntu: `sudo apt install rsync`): offload copies files with one of them."
            : "Install rsync on the host (Debian/Ubuntu: `sudo apt install rsync`), or set `sync: { tool: tar }` in offload.yaml.",
      },
    );
  // tar says "Cannot write: No space left on device", or only "Wrote only N of M bytes" (a short write)
  // when the file it wrote was the last; rsync "write failed on …: No space left on device (28)".
  if (/No space left on device|Disk quota exceeded|Wrote only [0-9]+ of [0-9]+ bytes/.test(stderr))
    return new OffloadError(
      "E_DISK_FULL",
      `Uploading the workspace to ${transport.label} failed: the remote dir's file system is full (status ${code}); nothing was started:\n${detail}`,
      {
        hint: "Free space there (`df -h` in the remote dir shows it) or pick another remote dir (`--remote-dir`); the next run sends again what did not arrive.",
      },
    );
  return new OffloadError(
    "E_SYNC",
    `Uploading the workspace to ${transport.label} failed (status ${code}):\n${detail}`,
    {
      hint: "Check free disk space and permissions of the remote dir; `offload check --host <host>` shows both.",
    },
  );
}
