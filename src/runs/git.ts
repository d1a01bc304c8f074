// The project's git state for the run record: commit, branch, and whether the tree has changes.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { runProcess } from "../transport/process.js";

/**
 * Whether git could find a repository for `dir`: a `.git` in it or above it (or GIT_DIR set). Asked
 * before spawning `git status`, since a spawn blocks offload for 10-25 ms and most of a warm run's
 * time is process starts.
 */
function mayBeInRepository(dir: string): boolean {
  if (process.env.GIT_DIR) return true;
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, ".git"))) return true;
    if (dirname(at) === at) return false;
  }
}

type GitState = { commit: string | null; branch: string | null; dirty: boolean };

/** The reads under way, by project: a job across 16 nodes asks 16 times at once, and one git answers. */
const reading = new Map<string, Promise<GitState | undefined>>();

export function readGitState(projectDir: string): Promise<GitState | undefined> {
  const pending = reading.get(projectDir);
  if (pending !== undefined) return pending;
  const read = readGitStateNow(projectDir).finally(() => reading.delete(projectDir));
  reading.set(projectDir, read);
  return read;
}

async function readGitStateNow(projectDir: string): Promise<GitState | undefined> {
  if (!mayBeInRepository(projectDir)) return undefined;
  const status = await runProcess(
    ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=normal"],
    { cwd: projectDir },
  ).catch(() => undefined);
  if (status?.code !== 0) return undefined;
  const lines = status.stdout.split("\n");
  const oid = lines.find((line) => line.startsWith("# branch.oid "))?.slice(13) ?? null;
  const head = lines.find((line) => line.startsWith("# branch.head "))?.slice(14) ?? null;
  const dirty = lines.some((line) => line !== "" && !line.startsWith("#"));
  return {
    commit: oid === "(initial)" ? null : oid,
    branch: head === "(detached)" ? null : head,
    dirty,
  };
}
