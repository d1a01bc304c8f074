// The files of a run folder besides run.json, by name: only runs/ spells them, so readers and writers
// elsewhere go through these functions and cannot disagree on a name or a line format.

import type { Stats } from "node:fs";
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
  const refused = refuseUnlessPlain(path, fstatSync(fd));
  if (refused !== undefined) {
    closeSync(fd);
    throw refused;
  }
  return fd;
}

/** openRunFile for reading, undefined where the file is not there (a link or a folder there throws). */
export function openRunFileIfAny(path: string): number | undefined {
  try {
    return openRunFile(path, "read");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** A run file's size in bytes, undefined where it is not there; only a plain file has one. */
export function runFileSize(path: string): number | undefined {
  const fd = openRunFileIfAny(path);
  if (fd === undefined) return undefined;
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

/** openRunFile for reading, as a promise's FileHandle. */
export async function openRunFileToRead(path: string): Promise<FileHandle> {
  const handle = await open(path, OPEN_FLAGS.read).catch((error: unknown) => {
    throw explainOpen(path, error);
  });
  const refused = refuseUnlessPlain(path, await handle.stat());
  if (refused !== undefined) {
    await handle.close();
    throw refused;
  }
  return handle;
}

/** openRunFileToRead, undefined where the file is not there (a link or a folder there throws). */
export async function openRunFileToReadIfAny(path: string): Promise<FileHandle | undefined> {
  return openRunFileToRead(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
}

/** The one check both opens make on what they opened (O_NOFOLLOW has already refused a symlink). */
function refuseUnlessPlain(path: string, stats: Stats): OffloadError | undefined {
  if (stats.isFile()) return undefined;
  return notAFile(path, stats.isDirectory() ? "a folder" : "not a plain file");
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
  const handle = await openRunFileToReadIfAny(join(runDir, name));
  if (handle === undefined) return "";
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
