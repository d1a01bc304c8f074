// The temp files a download writes beside its destinations, and the collection of those a killed
// offload left: never half a file at a final path, and no litter either.
import { readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isProcessRunning } from "../transport/process-alive.js";

/** Temp files a download writes: `.<name>.offload-<pid>` beside a file, `.offload-partial-<pid>` dirs. */
const TEMP_NAME = /^(?:\..+\.offload|\.offload-partial)-([0-9]+)$/;

export function tempPath(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.offload-${process.pid}`);
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
    if (!Number.isInteger(pid) || pid === process.pid || isProcessRunning(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
