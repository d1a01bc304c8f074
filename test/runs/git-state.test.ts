// The git state a run records, read by a real git in a real repository: reads asked for at the same
// time (the nodes of one job) share one git process; a later read sees later changes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { readGitState } from "../../src/runs/git.js";

const repo = mkdtempSync(join(tmpdir(), "offload-git-state-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });

it("answers 16 reads at once with one git status, and a later read anew", async () => {
  git("init", "-q", "-b", "main");
  writeFileSync(join(repo, "a.txt"), "a\n");
  git("add", "a.txt");
  git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "a");
  // Each child's life is a performance measure while OFFLOAD_TRACE is set (transport/process.ts).
  process.env.OFFLOAD_TRACE = "1";
  try {
    performance.clearMeasures();
    const states = await Promise.all(Array.from({ length: 16 }, () => readGitState(repo)));
    const gits = performance.getEntriesByType("measure").filter((m) => m.name.startsWith("git"));
    expect(gits).toHaveLength(1);
    expect(new Set(states.map((s) => JSON.stringify(s))).size).toBe(1);
    expect(states[0]).toMatchObject({ branch: "main", dirty: false });

    writeFileSync(join(repo, "a.txt"), "changed\n");
    expect(await readGitState(repo)).toMatchObject({ dirty: true });
    expect(
      performance.getEntriesByType("measure").filter((m) => m.name.startsWith("git")),
    ).toHaveLength(2);
  } finally {
    delete process.env.OFFLOAD_TRACE;
  }
});
