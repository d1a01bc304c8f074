// A run holds the remote dir's lock from before its sync to its launch. While its offload syncs, the next
// run's refusal says the holder started no job and how the lock is freed; --force takes it. An offload
// killed with -9 there, on this same machine, is proven gone: the next run here takes its lock at once.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
let gate: string | undefined;
afterEach(async () => {
  // Lets a held rsync go on (the guardian has normally ended it with its offload).
  if (gate !== undefined) await writeFile(`${gate}.go`, "");
  await project?.remove();
  project = undefined;
  gate = undefined;
});

describe("a lock held by a run that never launched", () => {
  /** An offload held in its sync by the gated rsync, alive; returns its pid and its end. */
  async function startHeldSync(
    p: TempProject,
  ): Promise<{ pid: () => number; ended: Promise<unknown> }> {
    const realRsync = execFileSync("sh", ["-c", "command -v rsync"], { encoding: "utf8" }).trim();
    const bin = join(p.home, "bin");
    gate = join(p.home, "gate");
    // The real rsync behind a gate: the test knows the sync has begun, and acts there.
    await p.write(
      "../home/bin/rsync",
      `#!/bin/sh\ntouch ${gate}.started\nwhile [ ! -f ${gate}.go ]; do sleep 0.1; done\nexec ${realRsync} "$@"\n`,
    );
    execFileSync("chmod", ["+x", join(bin, "rsync")]);
    await p.write("offload.yaml", "sync:\n  tool: rsync\n");
    await p.write("train.py", "print('hi')\n");
    let pid: number | undefined;
    const ended = runCli(["run", "--host", "local", "--", "echo", "first"], {
      cwd: p.dir,
      env: { HOME: p.home, PATH: `${bin}:${process.env.PATH ?? ""}` },
      onSpawn: (spawned) => {
        pid = spawned;
      },
    });
    for (let i = 0; i < 600 && !existsSync(`${gate}.started`); i++) await sleep(100);
    expect(existsSync(`${gate}.started`), "the sync never started").toBe(true);
    return { pid: () => pid ?? 0, ended };
  }

  it("while its offload syncs, the refusal says the holder started no job, and --force takes over", async () => {
    project = await makeProject();
    const held = await startHeldSync(project);
    try {
      const refused = await runInProject(project, ["run", "--host", "local", "--", "true"]);
      expect(refused.code, refused.stderr).toBe(202);
      expect(refused.stderr).toContain("error E_LOCKED");
      expect(refused.stderr).toContain("which has not started its job");
      expect(refused.stderr).toMatch(/killed before the launch \(last sign of life [0-9]+ s ago\)/);
      expect(refused.stderr).toMatch(/lock frees itself after 60 s without a sign of life/);
      expect(refused.stderr).toContain("`offload run --force`");
      // No job to follow: the old hint sent people to `offload attach <id>`, which finds nothing.
      expect(refused.stderr).not.toMatch(/offload attach \S+/);

      const forced = await runInProject(project, [
        "run",
        "--force",
        "--host",
        "local",
        "--",
        "echo",
        "mine now",
      ]);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stdout).toBe("mine now\n");
      // The holder had no job: --force stopped nothing and says so, not "stopped run …".
      expect(forced.stderr).toMatch(
        /--force: took over the remote dir's lock from run \S+ .*which had not started its job \(nothing was stopped\)/,
      );
      expect(forced.stderr).not.toContain("--force: stopped");
    } finally {
      process.kill(held.pid(), "SIGKILL");
      await held.ended;
    }
  });

  it("after kill -9 of its offload during the sync, the next run on this machine takes the lock at once", async () => {
    project = await makeProject();
    const held = await startHeldSync(project);
    process.kill(held.pid(), "SIGKILL");
    expect(((await held.ended) as { code: number }).code).toBe(137);
    // The killed run saved no record here (it never launched): its id is the one the host's lock named.
    expect(await project.runIds()).toEqual([]);

    const next = await runInProject(project, ["run", "--host", "local", "--", "echo", "mine now"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toBe("mine now\n");
    expect(next.stderr).toMatch(
      /reclaimed the remote dir's lock from run \S+ \(since .*\), which is no longer running/,
    );
    expect(next.stderr).not.toContain("E_LOCKED");
  });
});
