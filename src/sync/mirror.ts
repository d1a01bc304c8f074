// Deletions mirrored: a file offload synced to a remote dir and that is gone here is removed there. What
// offload synced is kept in a manifest on this machine, one per target and remote dir
// (`.offload/synced/<key>`), so a file the job made (outputs, checkpoints) is never a candidate; nor is a
// path the ignore rules leave out. The same for rsync and the tar fallback: an explicit list, not
// rsync's --delete.
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { quoteShell } from "../shell/quote.js";
import type { Transport } from "../transport/types.js";
import { decodeNulList, encodeNulList, encodePath } from "./raw-names.js";

/** Where the manifest of what was synced to `remoteDir` on the target named by `target` lives. */
export function manifestPath(projectDir: string, target: string, remoteDir: string): string {
  const key = createHash("sha256").update(`${target}\0${remoteDir}`).digest("hex").slice(0, 16);
  return join(projectDir, ".offload", "synced", key);
}

/**
 * The paths last synced there, or undefined when nothing was (or the manifest is unreadable). Here and in
 * `writeManifest`, synchronous calls: each run's sync waits on them, and each asynchronous one is a
 * thread-pool round trip (read + write of 5,000 names at load 15: 21-25 ms async, ~1 ms sync; measured).
 */
export async function readManifest(path: string): Promise<string[] | undefined> {
  try {
    return decodeNulList(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (temp file + rename): a torn manifest could name files never synced. */
export async function writeManifest(path: string, files: readonly string[]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  // `.offload/` ignores itself (as the run store makes it), also when a manifest comes first.
  try {
    writeFileSync(join(dirname(dirname(path)), ".gitignore"), "*\n", { flag: "wx" });
  } catch {
    // there already
  }
  const temp = `${path}.${process.pid}.tmp`;
  // Bytes, not text: a name that is not UTF-8 is kept as the scan gives it (raw-names.ts).
  writeFileSync(temp, encodeNulList(files));
  renameSync(temp, path);
}

export interface Removals {
  files: string[];
  /** Folders gone here that held removed files, deepest first; removed there only when empty. */
  dirs: string[];
}

function kindHere(projectDir: string, path: string): "dir" | "other" | "none" {
  try {
    return lstatSync(encodePath(join(projectDir, path))).isDirectory() ? "dir" : "other";
  } catch {
    return "none";
  }
}

/**
 * What to remove remotely: paths synced last time that are neither synced now, nor present here (a file
 * that the rules now leave out stays), nor left out by the rules.
 */
export function planRemovals(
  previous: readonly string[],
  current: readonly string[],
  projectDir: string,
  ignores: (path: string) => boolean,
): Removals {
  const now = new Set(current);
  const files = previous.filter(
    (path) => !now.has(path) && !ignores(path) && kindHere(projectDir, path) === "none",
  );
  const dirs = new Set<string>();
  for (const file of files) {
    for (let dir = dirname(file); dir !== "." && dir !== "/"; dir = dirname(dir)) {
      if (dirs.has(dir)) break;
      if (kindHere(projectDir, dir) === "dir") break;
      dirs.add(dir);
    }
  }
  const deepestFirst = [...dirs].sort((a, b) => b.split("/").length - a.split("/").length);
  return { files, dirs: deepestFirst };
}

/**
 * The removal as a script for `sh -s` (stdin: no length limit on the list). A path with a symlinked
 * folder above it is skipped: the job may have made `data -> /etc`, and `data/x` must not reach out.
 */
export function buildRemovalScript(removals: Removals): string {
  const lines = [
    `offload_inside() { a=$1; while case $a in */*) true ;; *) false ;; esac; do a=\${a%/*}; [ -L "$a" ] && return 1; done; return 0; }`,
    ...removals.files.map(
      (file) => `offload_inside ./${quoteShell(file)} && rm -f ./${quoteShell(file)}`,
    ),
    ...removals.dirs.map(
      (dir) => `offload_inside ./${quoteShell(dir)} && rmdir ./${quoteShell(dir)} 2>/dev/null`,
    ),
    "exit 0",
  ];
  return `${lines.join("\n")}\n`;
}

/** Removes them in the remote dir in one round trip. */
export async function removeRemote(
  transport: Transport,
  remoteDir: string,
  removals: Removals,
): Promise<void> {
  const result = await transport.exec(`cd ${quoteShell(remoteDir)} && exec sh -s`, {
    stdin: encodePath(buildRemovalScript(removals)),
  });
  if (result.connectionFailed) throw transport.explain(result);
}
