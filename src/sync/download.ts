// Brings a run's outputs home: lists what the rules match on the far side in one round trip, then
// copies with rsync (whose temp-file-and-rename means a file is at its final path only when complete).
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync } from "node:fs";
import { copyFile, lstat, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { OffloadError } from "../errors.js";
import { quoteRemotePath, quoteShell } from "../shell/quote.js";
import { frameScript } from "../transport/frame.js";
import { runPipeline, runProcess } from "../transport/process.js";
import { localRsyncShowsProgress } from "../transport/rsync-version.js";
import type { Transport } from "../transport/types.js";
import { type DownloadPlan, isContainedPath } from "./download-plan.js";
import { expandLocal } from "./local-path.js";
import {
  buildRsyncFilesArgv,
  buildRsyncOneArgv,
  isShellNoise,
  parseRsyncProgress,
  SHELL_NOISE_HINT,
  type TransferProgress,
} from "./rsync.js";
import type { SyncTool } from "./upload.js";

const MAPPED_MARK = "offload-mapped";
const BIG_MARK = "offload-big";
const SIZE_MARK = "offload-size";
const LINK_MARK = "offload-links";
/** Files above this size travel as a plain `cat` stream: rsync's protocol costs it ~40% throughput there. */
export const BIG_FILE_BYTES = 64 * 1024 * 1024;

/**
 * A shell test, true when some part of `relative` (below the current dir) is a symlink. The kernel
 * follows a symlink anywhere in a path, so checking the last part alone lets `lnk/shadow` reach /etc.
 */
function crossesLink(relative: string): string {
  const parts = relative.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0) return "false";
  const prefixes = parts.map((_, i) => `./${parts.slice(0, i + 1).join("/")}`);
  return `{ ${prefixes.map((prefix) => `[ -L ${quoteShell(prefix)} ]`).join(" || ")}; }`;
}

/**
 * One script lists glob matches, the big ones among them, the symlinks the rules met (never followed,
 * never fetched: the download policy) and the first usable candidate of each mapped rule.
 */
export function buildListingScript(remoteDir: string, plan: DownloadPlan): string {
  const lines = [`cd ${quoteShell(remoteDir)} || exit 1`];
  const bases = [...new Set(plan.globs.map((glob) => glob.base))];
  const walk = (tests: string) =>
    bases.map((base) => {
      const start = quoteShell(base === "." ? "." : `./${base}`);
      const links = crossesLink(base);
      return `if ! ${links} && [ -d ${start} ]; then find ${start} -path ./.offload -prune -o ${tests} -print0; elif ! ${links} && [ -f ${start} ]; then find ${start} -prune ${tests} -print0; fi`;
    });
  lines.push(...walk("-type f"));
  lines.push(`printf '${BIG_MARK}\\0'`);
  lines.push(...walk(`-type f -size +${BIG_FILE_BYTES - 1}c`));
  lines.push(`printf '${LINK_MARK}\\0'`);
  lines.push(...walk("-type l"));
  for (const base of bases)
    if (base !== ".")
      lines.push(`if ${crossesLink(base)}; then printf '%s\\0' ${quoteShell(`./${base}`)}; fi`);
  lines.push(`printf '${MAPPED_MARK}\\0'`);
  plan.mapped.forEach((rule, index) => {
    const found: string[] = [];
    const linked: string[] = [];
    for (const candidate of rule.candidates) {
      if (candidate.startsWith("/") || candidate.startsWith("~")) {
        // An absolute mapping names a place outside the remote dir on purpose; only its file must be real.
        const path = quoteRemotePath(candidate);
        found.push(`[ -f ${path} ] && [ ! -L ${path} ]; then printf '%s\\0%s\\0' ${index} ${path}`);
        linked.push(`[ -L ${path} ]`);
      } else {
        const links = crossesLink(candidate);
        const path = `"$PWD"/${quoteShell(candidate)}`;
        found.push(`! ${links} && [ -f ${path} ]; then printf '%s\\0%s\\0' ${index} ${path}`);
        linked.push(links);
      }
    }
    // A rule whose only candidates are symlinks says so (an empty path), rather than "nothing matched".
    found.push(`${linked.join(" || ")}; then printf '%s\\0\\0' ${index}`);
    lines.push(`if ${found.join("; elif ")}; fi`);
  });
  return lines.join("\n");
}

export interface Listing {
  files: string[];
  /** Those of `files` larger than BIG_FILE_BYTES. */
  big: Set<string>;
  /** Symlinks the glob rules met, and glob bases that pass through one: skipped, never followed. */
  links: string[];
  /** Rule index → absolute remote path of the candidate that exists; "" when its candidates are symlinks. */
  mapped: Map<number, string>;
}

export function parseListing(stdout: string, plan: DownloadPlan): Listing {
  const records = stdout.split("\0");
  const strip = (path: string) => path.replace(/^\.\//, "");
  const section = (from: string | undefined, to: string) => {
    const start = from === undefined ? 0 : records.indexOf(from) + 1;
    const end = records.indexOf(to);
    if (start < 0 || (from !== undefined && start === 0)) return [];
    return records.slice(start, end >= 0 ? end : records.length);
  };
  const found = section(undefined, BIG_MARK).map(strip);
  const big = new Set(section(BIG_MARK, LINK_MARK).map(strip));
  const files = [...new Set(found)].filter(
    (path) => isContainedPath(path) && plan.globs.some((glob) => glob.match(path)),
  );
  const links = [...new Set(section(LINK_MARK, MAPPED_MARK).map(strip))].filter(
    (path) =>
      isContainedPath(path) && plan.globs.some((glob) => glob.match(path) || glob.base === path),
  );
  const mapped = new Map<number, string>();
  const mark = records.indexOf(MAPPED_MARK);
  const tail = mark < 0 ? [] : records.slice(mark + 1);
  for (let i = 0; i + 1 < tail.length; i += 2) mapped.set(Number(tail[i]), tail[i + 1] ?? "");
  return { files, big, links, mapped };
}

export interface DownloadRequest {
  transport: Transport;
  remoteDir: string;
  plan: DownloadPlan;
  /** The run's artifacts directory. */
  artifactsDir: string;
  /** Where relative local paths of mapped rules are anchored (the project root). */
  projectDir: string;
  tool: SyncTool;
  /** Big files already home in an earlier attempt of this download: a retry skips them. */
  fetched?: Set<string>;
  /** Called as a copy goes on: rsync's own reports, or a big file's bytes on disk against its size. */
  onProgress?: (progress: TransferProgress) => void;
}

/** How far a copy of `total` bytes is after `elapsedMs`, with the rate so far and the ETA it gives. */
export function estimateProgress(
  bytes: number,
  total: number,
  elapsedMs: number,
): TransferProgress {
  const progress: TransferProgress = {
    bytes,
    percent: total > 0 ? Math.min(100, Math.floor((bytes * 100) / total)) : 0,
  };
  if (elapsedMs > 0 && bytes > 0) {
    progress.bytesPerSecond = (bytes * 1000) / elapsedMs;
    progress.etaSeconds = Math.max(0, total - bytes) / progress.bytesPerSecond;
  }
  return progress;
}

/** How often a big file's size on disk is read for its bar. */
const MEASURE_MS = 250;

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

/** Temp files a download writes: `.<name>.offload-<pid>` beside a file, `.offload-partial-<pid>` dirs. */
const TEMP_NAME = /^(?:\..+\.offload|\.offload-partial)-([0-9]+)$/;

function tempPath(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.offload-${process.pid}`);
}

function isRegularFile(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isFile(),
    () => false,
  );
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

/** rsync's codes for a stream that broke (12, 30, 35) and ssh's 255: a dropped link, worth a retry. */
function isDropCode(code: number): boolean {
  return code === 12 || code === 30 || code === 35 || code === 255;
}

async function fetchFiles(
  request: DownloadRequest,
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

/**
 * Removes temp files that a killed offload left in `dir` (a pid that no longer runs): a SIGKILL
 * cannot be caught, so the next download into the same place collects them.
 */
export async function collectStaleTemps(dir: string, recursive: boolean): Promise<string[]> {
  const names = await readdir(dir, { recursive }).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(TEMP_NAME.exec(basename(name))?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isRunning(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function downloadArtifacts(request: DownloadRequest): Promise<DownloadResult> {
  const { transport, remoteDir, plan, artifactsDir, projectDir } = request;
  await collectStaleTemps(artifactsDir, true);
  for (const rule of plan.mapped) {
    const local = expandLocal(rule.local, projectDir);
    await collectStaleTemps(rule.local.endsWith("/") ? local : dirname(local), false);
  }
  const listed = await transport.exec(buildListingScript(remoteDir, plan));
  if (listed.connectionFailed) throw droppedError(transport, transport.explain(listed));
  if (listed.code !== 0) throw downloadError(transport.label, listed.stderr);
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

function transferError(transport: Transport, code: number, stderr: string): OffloadError {
  if (transport.kind === "ssh" && isDropCode(code) && !isShellNoise(stderr))
    return droppedError(transport, new Error(stderr.trim().split("\n").at(-1) ?? ""));
  return downloadError(transport.label, stderr);
}

/** E_DISCONNECTED: the link dropped mid-download; the caller reconnects and downloads again. */
function droppedError(transport: Transport, cause: Error): OffloadError {
  return new OffloadError(
    "E_DISCONNECTED",
    `Lost the connection to ${transport.label} while downloading outputs${cause.message ? ` (${cause.message})` : ""}.`,
    { hint: DOWNLOAD_HINT, cause },
  );
}

const DOWNLOAD_HINT =
  "The run itself has finished and its files are still on the host: run `offload attach <run-id>` to fetch them again.";

function downloadError(label: string, stderr: string): OffloadError {
  if (isShellNoise(stderr))
    return new OffloadError(
      "E_SHELL_NOISE",
      `Downloading outputs from ${label} failed: the remote shell is not clean: ${stderr.trim().split("\n").slice(-2).join(" ")}`,
      { hint: SHELL_NOISE_HINT },
    );
  return new OffloadError(
    "E_DOWNLOAD",
    `Downloading outputs from ${label} failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`,
    { hint: DOWNLOAD_HINT },
  );
}
