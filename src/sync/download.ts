// Brings a run's outputs home: lists what the rules match on the far side in one round trip, then
// copies with rsync (whose temp-file-and-rename means a file is at its final path only when complete).
import { closeSync, createReadStream, createWriteStream, openSync } from "node:fs";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { OffloadError } from "../errors.js";
import { quoteRemotePath, quoteShell } from "../remote/quote.js";
import { frameScript } from "../transport/frame.js";
import { runPipeline, runProcess } from "../transport/process.js";
import type { Transport } from "../transport/types.js";
import { type DownloadPlan, isContainedPath } from "./download-plan.js";
import { buildRsyncFilesArgv, buildRsyncOneArgv, isShellNoise, SHELL_NOISE_HINT } from "./rsync.js";
import type { SyncTool } from "./upload.js";

const MAPPED_MARK = "offload-mapped";
const BIG_MARK = "offload-big";
const SIZE_MARK = "offload-size";
/** Files above this size travel as a plain `cat` stream: rsync's protocol costs it ~40% throughput there. */
export const BIG_FILE_BYTES = 64 * 1024 * 1024;

/** One script lists glob matches (find, no symlinks followed) and the first existing mapped candidate. */
export function buildListingScript(remoteDir: string, plan: DownloadPlan): string {
  const lines = [`cd ${quoteShell(remoteDir)} || exit 1`];
  const bases = [...new Set(plan.globs.map((glob) => glob.base))];
  for (const base of bases) {
    const start = base === "." ? "." : `./${base}`;
    lines.push(
      `if [ -d ${quoteShell(start)} ] && [ ! -L ${quoteShell(start)} ]; then find ${quoteShell(start)} -path ./.offload -prune -o -type f -print0; elif [ -f ${quoteShell(start)} ] && [ ! -L ${quoteShell(start)} ]; then printf '%s\\0' ${quoteShell(start)}; fi`,
    );
  }
  lines.push(`printf '${BIG_MARK}\\0'`);
  for (const base of bases) {
    const start = base === "." ? "." : `./${base}`;
    lines.push(
      `if [ -d ${quoteShell(start)} ] && [ ! -L ${quoteShell(start)} ]; then find ${quoteShell(start)} -path ./.offload -prune -o -type f -size +${BIG_FILE_BYTES - 1}c -print0; elif [ -f ${quoteShell(start)} ]; then find ${quoteShell(start)} -prune -type f -size +${BIG_FILE_BYTES - 1}c -print0; fi`,
    );
  }
  lines.push(`printf '${MAPPED_MARK}\\0'`);
  plan.mapped.forEach((rule, index) => {
    const tests = rule.candidates.map((candidate) => {
      const path =
        candidate.startsWith("/") || candidate.startsWith("~")
          ? quoteRemotePath(candidate)
          : `"$PWD"/${quoteShell(candidate)}`;
      return `[ -f ${path} ]; then printf '%s\\0%s\\0' ${index} ${path}`;
    });
    if (tests.length > 0) lines.push(`if ${tests.join("; elif ")}; fi`);
  });
  return lines.join("\n");
}

export interface Listing {
  files: string[];
  /** Those of `files` larger than BIG_FILE_BYTES. */
  big: Set<string>;
  /** Rule index → absolute remote path of the candidate that exists. */
  mapped: Map<number, string>;
}

export function parseListing(stdout: string, plan: DownloadPlan): Listing {
  const records = stdout.split("\0");
  const mark = records.indexOf(MAPPED_MARK);
  const bigMark = records.indexOf(BIG_MARK);
  const strip = (path: string) => path.replace(/^\.\//, "");
  const found = records
    .slice(0, bigMark >= 0 ? bigMark : mark >= 0 ? mark : records.length)
    .map(strip);
  const big = new Set(
    bigMark >= 0 ? records.slice(bigMark + 1, mark >= 0 ? mark : records.length).map(strip) : [],
  );
  const files = [...new Set(found)].filter(
    (path) => isContainedPath(path) && plan.globs.some((glob) => glob.match(path)),
  );
  const mapped = new Map<number, string>();
  const tail = mark < 0 ? [] : records.slice(mark + 1);
  for (let i = 0; i + 1 < tail.length; i += 2) mapped.set(Number(tail[i]), tail[i + 1] ?? "");
  return { files, big, mapped };
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
}

export interface DownloadResult {
  /** Paths relative to the artifacts dir. */
  artifacts: string[];
  /** Local paths written by mapped rules. */
  mappedFiles: string[];
  /** Rules that matched nothing, for a notice. */
  missing: string[];
}

function expandLocal(path: string, projectDir: string): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return resolve(projectDir, path);
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
  const temp = join(dirname(target), `.${basename(target)}.offload-${process.pid}`);
  await copyFile(source, temp);
  await rename(temp, target);
}

/** Streams one file with `cat` into a temp file beside its destination, then renames it into place. */
async function streamFile(transport: Transport, remotePath: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const temp = join(dirname(dest), `.${basename(dest)}.offload-${process.pid}`);
  const fd = openSync(temp, "w");
  let result: Awaited<ReturnType<Transport["exec"]>>;
  try {
    // ssh writes into the file itself: copying through offload cost half the throughput (measured).
    // So this stream is framed by length, not by a start mark: the size goes first, on stderr.
    const path = quoteShell(remotePath);
    result = await transport.exec(
      `s=$(wc -c < ${path}) || exit 1; printf '${SIZE_MARK} %s\\n' $s >&2; exec cat -- ${path}`,
      { stdoutFd: fd },
    );
  } finally {
    closeSync(fd);
  }
  if (result.code !== 0) {
    await rm(temp, { force: true });
    throw result.connectionFailed
      ? transport.explain(result)
      : downloadError(transport.label, result.stderr);
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

async function fetchFiles(
  request: DownloadRequest,
  all: readonly string[],
  big: ReadonlySet<string>,
): Promise<void> {
  const { transport, remoteDir, artifactsDir, tool } = request;
  const shell = transport.remoteShell();
  await mkdir(artifactsDir, { recursive: true });
  for (const file of all)
    if (big.has(file))
      await streamFile(transport, `${remoteDir}/${file}`, join(artifactsDir, file));
  const files = all.filter((file) => !big.has(file));
  if (files.length === 0) return;
  const list = files.map((file) => `${file}\0`).join("");
  if (tool === "rsync") {
    const result = await runProcess(
      buildRsyncFilesArgv(shell, shell.remotePath(remoteDir), artifactsDir),
      { stdin: list },
    );
    if (result.code !== 0) throw downloadError(transport.label, result.stderr);
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
    if (result.code !== 0) throw downloadError(transport.label, result.stderr);
    for (const file of files) {
      await mkdir(dirname(join(artifactsDir, file)), { recursive: true });
      await rename(join(staging, file), join(artifactsDir, file));
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export async function downloadArtifacts(request: DownloadRequest): Promise<DownloadResult> {
  const { transport, remoteDir, plan, artifactsDir, projectDir } = request;
  const listed = await transport.exec(buildListingScript(remoteDir, plan));
  if (listed.connectionFailed) throw transport.explain(listed);
  if (listed.code !== 0) throw downloadError(transport.label, listed.stderr);
  const listing = parseListing(listed.stdout, plan);
  const missing = plan.globs
    .filter((glob) => !listing.files.some(glob.match))
    .map((glob) => glob.pattern);

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
    let relative = mappedArtifacts.get(index);
    if (relative === undefined) {
      // Outside the remote dir (an explicit absolute mapping): keep it in artifacts under its own name.
      relative = basename(remotePath);
      await mkdir(artifactsDir, { recursive: true });
      const shell = transport.remoteShell();
      const result = await runProcess(
        buildRsyncOneArgv(shell, shell.remotePath(remotePath), join(artifactsDir, relative)),
      );
      if (result.code !== 0) throw downloadError(transport.label, result.stderr);
    }
    const local = expandLocal(rule.local, projectDir);
    await placeFile(join(artifactsDir, relative), local);
    mappedFiles.push(local);
  }
  const artifacts = [...wanted].sort();
  return { artifacts: await existing(artifactsDir, artifacts), mappedFiles, missing };
}

async function existing(dir: string, files: string[]): Promise<string[]> {
  const kept: string[] = [];
  for (const file of files)
    if (
      await stat(join(dir, file)).then(
        () => true,
        () => false,
      )
    )
      kept.push(file);
  return kept;
}

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
    {
      hint: "The run itself has finished and its files are still on the host: run `offload attach <run-id>` to fetch them again.",
    },
  );
}
