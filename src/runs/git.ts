// The project's git state for the run record: commit, branch, and whether the tree has changes.
import { runProcess } from "../transport/process.js";

export async function readGitState(
  projectDir: string,
): Promise<{ commit: string | null; branch: string | null; dirty: boolean } | undefined> {
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
