// Copies the listed files home: big ones as a plain `cat` stream each, the rest with rsync (temp file and
// rename) or tar (unpacked in a staging dir, then renamed): never half a file at a final path.
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync } from "node:fs";
import { lstat, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { quoteShell } from "../shell/quote.js";
import { frameScript } from "../transport/frame.js";
import { runPipeline } from "../transport/pipeline.js";
import { runProcess } from "../transport/process.js";
import { localRsyncShowsProgress } from "../transport/rsync-version.js";
import type { Transport } from "../transport/types.js";
import { downloadError, droppedError, transferError } from "./download-errors.js";
import { estimateProgress, MEASURE_MS } from "./download-progress.js";
import { tempPath } from "./download-temps.js";
import { buildRsyncFilesArgv, parseRsyncProgress, type TransferProgress } from "./rsync.js";
import type { SyncTool } from "./upload.js";

const SIZE_MARK = "offload-size";

export interface TransferRequest {
  transport: Transport;
  remoteDir: string;
  /** The run's artifacts directory. */
  artifactsDir: string;
  tool: SyncTool;
  /** Big files already home in an earlier attempt of this download: a retry skips them. */
  fetched?: Set<string>;
  /** Called as a copy goes on: rsync's own reports, or a big file's bytes on disk against its size. */
  onProgress?: (progress: TransferProgress) => void;
}

export function isRegularFile(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * Streams one file with `cat` into a temp file beside its destination, then renames it into place. A
 * dropped connection discards the temp file: the retry fetches this file again, and skips those done.
 */
async function streamFile(
  transport: Transport,
  remotePath: string,
  dest: string,
  onProgress?: (progress: TransferProgress) => void,
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const temp = tempPath(dest);
  const fd = openSync(temp, "w");
  let result: Awaited<ReturnType<Transport["exec"]>>;
  // The bytes never pass through offload: their count is the file's size, read now and then.
  let total: number | undefined;
  const started = performance.now();
  const measure =
    onProgress &&
    setInterval(() => {
      if (total !== undefined)
        onProgress(estimateProgress(fstatSync(fd).size, total, performance.now() - started));
    }, MEASURE_MS);
  try {
    // ssh writes into the file itself: copying through offload cost half the throughput (measured).
    // So this stream is framed by length, not by a start mark: the size goes first, on stderr.
    // The listing saw a regular file; refusing a symlink here too closes the gap until the copy starts.
    const path = quoteShell(remotePath);
    result = await transport.exec(
      `[ ! -L ${path} ] || exit 3; s=$(wc -c < ${path}) || exit 1; printf '${SIZE_MARK} %s\\n' $s >&2; exec cat -- ${path}`,
      {
        stdoutFd: fd,
        onStderr: (chunk) => {
          const size = new RegExp(`${SIZE_MARK} (\\d+)`).exec(chunk.toString("latin1"))?.[1];
          if (size !== undefined) total ??= Number(size);
        },
      },
    );
  } finally {
    if (measure) clearInterval(measure);
    closeSync(fd);
  }
  if (result.code !== 0) {
    await rm(temp, { force: true });
    // The script itself never exits 255; ssh does when the link drops, also after the size mark
    // made stderr non-empty (which hides it from connectionFailed).
    if (result.connectionFailed) throw droppedError(transport, transport.explain(result));
    if (result.code === 255 && transport.kind === "ssh")
      throw droppedError(transport, new Error("ssh exited with status 255"));
    throw downloadError(transport.label, result.stderr);
  }
  await dropLoginNoise(temp, result.stderr, remotePath, transport.label);
  await rename(temp, dest);
}

/**
 * What a login shell printed before `cat` began sits at the head of the file: the file is longer than
 * the size the host announced by exactly that much. Cut it off (rare: only hosts with a noisy shell).
 */
async function dropLoginNoise(
  temp: string,
  stderr: string,
  remotePath: string,
  label: string,
): Promise<void> {
  const announced = new RegExp(`^${SIZE_MARK} ([0-9]+)$`, "m").exec(stderr)?.[1];
  const size = (await stat(temp)).size;
  const extra = announced === undefined ? -1 : size - Number(announced);
  if (extra === 0) return;
  if (extra < 0) {
    await rm(temp, { force: true });
    throw downloadError(
      label,
      `${remotePath}: got ${size} bytes, the host announced ${announced ?? "none"}`,
    );
  }
  const trimmed = `${temp}.trim`;
  await pipeline(createReadStream(temp, { start: extra }), createWriteStream(trimmed));
  await rename(trimmed, temp);
}

export async function fetchFiles(
  request: TransferRequest,
  all: readonly string[],
  big: ReadonlySet<string>,
): Promise<void> {
  const { transport, remoteDir, artifactsDir, tool } = request;
  const shell = transport.remoteShell();
  await mkdir(artifactsDir, { recursive: true });
  for (const file of all)
    if (big.has(file) && !request.fetched?.has(file)) {
      await streamFile(
        transport,
        `${remoteDir}/${file}`,
        join(artifactsDir, file),
        request.onProgress,
      );
      request.fetched?.add(file);
    }
  const files = all.filter((file) => !big.has(file));
  if (files.length === 0) return;
  const list = files.map((file) => `${file}\0`).join("");
  if (tool === "rsync") {
    const onProgress = request.onProgress;
    const progress = onProgress !== undefined && (await localRsyncShowsProgress());
    const result = await runProcess(
      buildRsyncFilesArgv(shell, shell.remotePath(remoteDir), artifactsDir, {
        links: false,
        progress,
      }),
      {
        stdin: list,
        ...(progress && onProgress
          ? {
              onStdout: (chunk: Buffer) => {
                const report = parseRsyncProgress(chunk.toString("latin1"));
                if (report !== undefined) onProgress(report);
              },
            }
          : {}),
      },
    );
    if (result.code !== 0) throw transferError(transport, result.code, result.stderr);
    return;
  }
  // tar has no temp-file-and-rename of its own: unpack into a staging dir, then rename into place.
  const staging = join(artifactsDir, `.offload-partial-${process.pid}`);
  await mkdir(staging, { recursive: true });
  try {
    const pack = frameScript(`cd ${quoteShell(remoteDir)} && tar -cf - --null --no-recursion -T -`);
    const result = await runPipeline(
      shell.shellArgv(`sh -c ${quoteShell(pack)}`),
      ["tar", "-xf", "-"],
      { stdin: list, consumerCwd: staging, framed: true },
    );
    if (result.code !== 0) throw transferError(transport, result.code, result.stderr);
    for (const file of files) {
      // tar keeps a symlink as a symlink; the policy is that none arrives.
      if (!(await isRegularFile(join(staging, file)))) continue;
      await mkdir(dirname(join(artifactsDir, file)), { recursive: true });
      await rename(join(staging, file), join(artifactsDir, file));
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
