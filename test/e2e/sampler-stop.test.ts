// The machine sampler ends with its job even while nvidia-smi hangs: the launcher signals the sampler's
// whole process group (dash's `kill -TERM -- -PGID` signalled nothing, and the run never ended).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
// The fake nvidia-smi's sleep, unique to this test process: found and ended even when the test fails.
const marker = `sleep 7${process.pid % 10000}3`;

function markerPids(): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.trim().endsWith(marker))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

afterEach(async () => {
  for (const pid of markerPids())
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  await project?.remove();
  project = undefined;
});

describe("machine sampler stop", () => {
  it("a hung nvidia-smi neither holds the run's end nor outlives the job", async () => {
    project = await makeProject();
    const bin = join(project.home, "bin");
    await project.write(
      "../home/bin/nvidia-smi",
      `#!/bin/sh\necho "0, 5, 100, 1000"\nexec ${marker}\n`,
    );
    execFileSync("chmod", ["+x", join(bin, "nvidia-smi")]);
    await project.write("offload.yaml", "machine_metrics: 1\n");
    const result = await runCli(
      ["run", "--host", "local", "--", "sh", "-c", "sleep 3; echo done"],
      {
        cwd: project.dir,
        env: { HOME: project.home, PATH: `${bin}:${process.env.PATH ?? ""}` },
        // Bounds the hang of the old code; the run itself takes seconds.
        timeoutMs: 60_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("done\n");
    const [id = ""] = await project.runIds();
    expect((await project.record(id)).status).toBe("succeeded");
    expect(markerPids()).toEqual([]);
  }, 90_000);
});
