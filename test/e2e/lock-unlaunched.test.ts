// An offload killed with -9 during its sync leaves the remote dir locked by a run that never started its
// job, and often has no record here: the next run's refusal says so, and how the lock is freed.
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
  it("after kill -9 during the sync, the refusal says the holder started no job, and --force takes over", async () => {
    project = await makeProject();
    const realRsync = execFileSync("sh", ["-c", "command -v rsync"], { encoding: "utf8" }).trim();
    const bin = join(project.home, "bin");
    gate = join(project.home, "gate");
    // The real rsync behind a gate: the test knows the sync has begun, and kills offload there.
    await project.write(
      "../home/bin/rsync",
      `#!/bin/sh\ntouch ${gate}.started\nwhile [ ! -f ${gate}.go ]; do sleep 0.1; done\nexec ${realRsync} "$@"\n`,
    );
    execFileSync("chmod", ["+x", join(bin, "rsync")]);
    await project.write("offload.yaml", "sync:\n  tool: rsync\n");
    await project.write("train.py", "print('hi')\n");

    let pid: number | undefined;
    const killed = runCli(["run", "--host", "local", "--", "echo", "first"], {
      cwd: project.dir,
      env: { HOME: project.home, PATH: `${bin}:${process.env.PATH ?? ""}` },
      onSpawn: (p) => {
        pid = p;
      },
    });
    for (let i = 0; i < 600 && !existsSync(`${gate}.started`); i++) await sleep(100);
    expect(existsSync(`${gate}.started`), "the sync never started").toBe(true);
    process.kill(pid ?? 0, "SIGKILL");
    expect((await killed).code).toBe(137);

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
  });
});
