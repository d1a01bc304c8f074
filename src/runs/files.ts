// The files of a run folder besides run.json, by name: only runs/ spells them, so readers and writers
// elsewhere go through these functions and cannot disagree on a name or a line format.
import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { basename, join } from "node:path";
import { OffloadError } from "../errors.js";

export const LOG_FILE = "output.log";
export const METRICS_FILE = "metrics.jsonl";
export const REPORT_FILE = "report.html";
/** The host's machine samples, byte for byte as the sampler wrote them (src/remote/sampler.ts). */
export const SAMPLES_FILE = "machine.txt";

/**
 * Appends metrics to the run's metrics.jsonl, one JSON line each stamped with the time it was seen.
 * Synchronous, as the log is: lines land in the order the log produced them.
 */
export function appendMetrics(runDir: string, metrics: readonly object[]): void {
  if (metrics.length === 0) return;
  const time = new Date().toISOString();
  const lines = metrics.map((metric) => JSON.stringify({ time, ...metric }));
  const fd = openRunFile(join(runDir, METRICS_FILE), "append");
  try {
    const bytes = Buffer.from(`${lines.join("\n")}\n`);
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done);
  } finally {
    closeSync(fd);
  }
}

const OPEN_FLAGS = {
  // O_NONBLOCK: a FIFO put in a run folder opens at once (and is then refused) instead of hanging.
  read: constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  append: constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
};

/**
 * Opens a run's file (output.log, machine.txt, metrics.jsonl) only where it is a plain file: a symlink
 * there (a run folder edited, or one that came with a cloned project) would lead attach to append the
 * host's log to whatever file it names and logs to print it; a folder made `logs` crash. Such a file is
 * E_RUN_DAMAGED, before a byte is read or written. Throws ENOENT as open does for a file not there.
 */
export function openRunFile(path: string, mode: keyof typeof OPEN_FLAGS): number {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS[mode], 0o644);
  } catch (error) {
    throw explainOpen(path, error);
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw notAFile(path, stats.isDirectory() ? "a folder" : "not a plain file");
  }
  return fd;
}

/** openRunFile for reading, as a promise's FileHandle. */
export async function openRunFileToRead(path: string): Promise<FileHandle> {
  const handle = await open(path, OPEN_FLAGS.read).catch((error: unknown) => {
    throw explainOpen(path, error);
  });
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw notAFile(path, stats.isDirectory() ? "a folder" : "not a plain file");
  }
  return handle;
}

function explainOpen(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return notAFile(path, "a symlink");
  if (code === "EISDIR") return notAFile(path, "a folder");
  return error;
}

function notAFile(path: string, what: string): OffloadError {
  const dir = join(path, "..");
  return new OffloadError(
    "E_RUN_DAMAGED",
    `The record of run ${basename(dir)} is damaged: ${basename(path)} is ${what}.`,
    {
      hint: `offload reads and writes a run's files only as plain files; look at ${path}, or remove ${dir} if the run no longer matters.`,
    },
  );
}

/** A run file's text, "" where the run has none (a run that printed no metric). */
export async function readRunFile(runDir: string, name: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await openRunFileToRead(join(runDir, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
