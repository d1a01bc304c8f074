// A Slurm job cancelled from outside offload (`scancel` by the user or an admin): its run ends as
// stopped, and the remote dir is free for the next run there, with no lock left to reclaim.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { jsonLines } from "../support/cli.js";
import type { TempProject } from "../support/project.js";
import { sleep, waitFor } from "../support/wait.js";
import { describeWithSlurm } from "./cluster/describe.js";
import { slurmProjects } from "./cluster/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describeWithSlurm("a Slurm job cancelled from outside offload", (cluster) => {
  const projects = slurmProjects(cluster, "scancel");
  const { offload } = projects;
  /** scancel as a user types it, then until Slurm says CANCELLED (COMPLETING still holds the dir). */
  async function scancel(jobId: string) {
    const env = cluster().clientEnv;
    execFileSync("scancel", [jobId], { env });
    const state = () =>
      execFileSync("scontrol", ["show", "job", "-o", jobId], { env, encoding: "utf8" });
    await waitFor(() => / JobState=CANCELLED /.test(state()));
  }

  async function noWaitJob(p: TempProject, yaml: string) {
    const started = await offload(p, ["run", "--no-wait", "--", "sh", "-c", "echo up; sleep 120"]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    const record = await p.record(id);
    const jobId = record.slurm?.jobId ?? "";
    expect(jobId, yaml).toMatch(/^\d+$/);
    return { id, jobId, remoteDir: record.target.remoteDir };
  }

  async function expectFreed(p: TempProject, id: string) {
    let status: unknown;
    for (let i = 0; i < 60; i++) {
      const ps = await offload(p, ["ps", "--json"]);
      expect(ps.code, ps.stderr).toBe(0);
      status = jsonLines(ps.stdout).find((line) => line.id === id)?.status;
      if (status !== "running") break;
      await sleep(500);
    }
    const next = await offload(p, ["run", "--", "echo", "next"], { timeoutMs: 60_000 });
    expect({ status, code: next.code, stdout: next.stdout, stderr: next.stderr }).toEqual({
      status: "stopped",
      code: 0,
      stdout: "next\n",
      stderr: expect.not.stringContaining("reclaimed"),
    });
  }

  it("a running job: ps says stopped, and the next run takes the dir without a reclaim", async () => {
    project = await projects.make("slurm:\n  nodes: 1\n");
    const { id, jobId, remoteDir } = await noWaitJob(project, "running");
    const log = join(remoteDir, ".offload/runs", id, "output.log");
    await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("up"));
    await scancel(jobId);
    await expectFreed(project, id);
  });

  it("a job still queued (held): ps says stopped, and the next run takes the dir without a reclaim", async () => {
    project = await projects.make("slurm:\n  nodes: 1\n  args: [--hold]\n");
    const { id, jobId } = await noWaitJob(project, "held");
    await scancel(jobId);
    const yaml = readFileSync(join(project.dir, "offload.yaml"), "utf8");
    await project.write("offload.yaml", yaml.replace("  args: [--hold]\n", ""));
    await expectFreed(project, id);
  });
});
