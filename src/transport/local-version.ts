// What this machine's `tar --version` and `rsync --version` say, kept beside the control sockets: each
// was a process start on every run that syncs (25-90 ms measured at load), and on a job across hosts
// every node's sync waited for them, after the spawns of all the nodes' connections. Kept by the
// program's path and the file's identity (inode, size, mtime): a new install or another program first
// in PATH asks again.
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "./process.js";
import { findLocalProgram } from "./programs.js";
import { controlDirectory } from "./ssh-control-dir.js";

/** The start of `--version`'s stdout kept: the name and version are on its first line. */
const KEPT_CHARS = 400;

interface Kept {
  key: string;
  stdout: string;
}

/**
 * `name --version`'s stdout where it exits 0, else undefined: read from what an earlier run kept for the
 * same program file, or asked (a process) and kept. `dir` is where it is kept (undefined: not kept).
 */
export async function readLocalVersion(
  name: "tar" | "rsync",
  options: { path?: string; dir?: string | undefined } = {},
): Promise<string | undefined> {
  const path = options.path ?? process.env.PATH ?? "";
  const file = options.dir === undefined ? undefined : join(options.dir, "local-versions.json");
  const key = identify(name, path);
  const kept = file === undefined ? {} : readKept(file);
  const known = kept[name];
  if (key !== undefined && known?.key === key) return known.stdout;
  const result = await runProcess([name, "--version"], {
    timeoutMs: 5000,
    env: { ...process.env, PATH: path },
  });
  if (result.code !== 0) return undefined;
  const stdout = result.stdout.slice(0, KEPT_CHARS);
  if (file !== undefined && key !== undefined)
    writeKept(file, { ...kept, [name]: { key, stdout } });
  return stdout;
}

/** The control sockets' directory, where versions are kept; undefined where it cannot be had. */
export function versionsDirectory(): string | undefined {
  try {
    return controlDirectory();
  } catch {
    // It refuses a directory that is not private: then nothing is kept, each run asks.
    return undefined;
  }
}

/** The file the shell would run for `name`, with what changes when it is replaced. */
function identify(name: string, path: string): string | undefined {
  const program = findLocalProgram(name, path);
  if (program === undefined) return undefined;
  try {
    const stat = statSync(program);
    return [program, stat.ino, stat.size, stat.mtimeMs].join(" ");
  } catch {
    return undefined;
  }
}

/** What is kept, entry by entry of the right shape (a damaged file, another version's: asked again). */
function readKept(file: string): Record<string, Kept> {
  try {
    const value: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (typeof value !== "object" || value === null) return {};
    const kept: Record<string, Kept> = {};
    for (const [name, entry] of Object.entries(value)) {
      const { key, stdout } = (entry ?? {}) as Partial<Kept>;
      if (typeof key === "string" && typeof stdout === "string") kept[name] = { key, stdout };
    }
    return kept;
  } catch {
    return {};
  }
}

/** Best effort, whole or not at all: a file that cannot be written costs the next run a process. */
function writeKept(file: string, kept: Record<string, Kept>): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(kept), { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    // ignore
  }
}
