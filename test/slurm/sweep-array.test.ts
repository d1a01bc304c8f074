// `offload sweep` on a Slurm target as ONE job array, against the suite's real cluster (two compute
// nodes of one CPU each, so a third task waits in the queue): each run a task with its own output
// file, record and job id `<array>_<task>`; a failing task leaves the others; Ctrl+C and `offload stop
// SWEEP` cancel every task with no process left; `offload attach SWEEP` finishes a left sweep.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import type { TempProject } from "../support/project.js";
import { waitFor } from "../support/wait.js";
import { isGone, processesWith } from "../testbed/procfs.js";
import { describeWithSlurm } from "./cluster/describe.js";
import { slurmProjects } from "./cluster/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describeWithSlurm("offload sweep on a Slurm target: one job array", (cluster) => {
  const projects = slurmProjects(cluster, "array");
  const slurmProject = () => projects.make("slurm:\n  nodes: 1\n");
  const { offload } = projects;

  /** The controller's view of every task of array `arrayId` (it keeps ended jobs MinJobAge = 600 s). */
  function arrayTasks(arrayId: string): string[] {
    return execFileSync("scontrol", ["show", "job", "-o", arrayId], {
      env: cluster().clientEnv,
      encoding: "utf8",
    })
      .split("\n")
      .filter((line) => line.trim() !== "");
  }

  /** Jobs still in the queue: a test that failed half-way must not hold the nodes for the next. */
  function squeue(): string[] {
    return execFileSync("squeue", ["-h", "-o", "%i"], {
      env: cluster().clientEnv,
      encoding: "utf8",
    })
      .split("\n")
      .filter((line) => line.trim() !== "");
  }
  let started: number | undefined;
  afterEach(() => {
    if (started !== undefined && !isGone(started)) process.kill(started, "SIGKILL");
    started = undefined;
    const left = squeue();
    if (left.length > 0) execFileSync("scancel", left, { env: cluster().clientEnv });
  });

  /** The runs recorded so far (a run's folder comes a moment before its run.json). */
  async function records(p: TempProject) {
    const ids = await p.runIds();
    const found = await Promise.all(ids.map((id) => p.record(id).catch(() => undefined)));
    return found.filter((record) => record !== undefined);
  }

  it("submits 3 runs as one array: a task each, one failing leaves the others, each record its own", async () => {
    project = await slurmProject();
    const result = await offload(project, [
      "sweep",
      "--param",
      "i=0,1,2",
      "--",
      'echo "run {i} is task $SLURM_ARRAY_TASK_ID of array $SLURM_ARRAY_JOB_ID"; [ {i} != 1 ] || exit 5',
    ]);
    // One run failed: the sweep says so with 1; the others still ran to their end.
    expect(result.code, result.stderr).toBe(1);
    // A run is running from its task's submit on, not from when the sweep took it (then nothing was
    // submitted yet: the array waits for every run's launch).
    for (const i of ["0", "1", "2"]) {
      const submitted = result.stderr.search(new RegExp(`#${i}: submitted Slurm job \\d+_${i}\\n`));
      const running = result.stderr.indexOf(`#${i} i=${i}: running on `);
      expect(submitted, result.stderr).toBeGreaterThanOrEqual(0);
      expect(running, result.stderr).toBeGreaterThan(submitted);
    }
    const all = (await records(project)).sort((a, b) =>
      (a.tags?.i ?? "").localeCompare(b.tags?.i ?? ""),
    );
    expect(all.map((r) => [r.tags?.i, r.status, r.exitCode, r.slurm?.state])).toEqual([
      ["0", "succeeded", 0, "COMPLETED"],
      ["1", "failed", 5, "FAILED"],
      ["2", "succeeded", 0, "COMPLETED"],
    ]);
    const arrayId = all[0]?.slurm?.jobId.split("_")[0] ?? "";
    expect(arrayId).toMatch(/^\d+$/);
    expect(all.map((r) => r.slurm?.jobId)).toEqual(["0", "1", "2"].map((i) => `${arrayId}_${i}`));
    const sweepId = all[0]?.tags?.sweep;
    for (const r of all) expect(r.tags?.sweep).toBe(sweepId);
    // Each run's log is its own task's output (srun's word on the failed one too), in its own record.
    for (const r of all) {
      const log = (await project.localLog(r.id)).toString();
      const own = `run ${r.tags?.i} is task ${r.tags?.i} of array ${arrayId}\n`;
      if (r.tags?.i === "1") {
        expect(log).toContain(own);
        expect(log).toContain("Exited with exit code 5");
      } else expect(log).toBe(own);
    }
    // Slurm itself: one array job holding the three tasks.
    const tasks = arrayTasks(arrayId);
    expect(tasks).toHaveLength(3);
    for (const line of tasks) expect(line).toContain(`ArrayJobId=${arrayId} `);
    expect(tasks.map((line) => /ArrayTaskId=(\d+)/.exec(line)?.[1]).sort()).toEqual([
      "0",
      "1",
      "2",
    ]);
    const report = await runCli(["report", sweepId ?? ""], {
      cwd: project.dir,
      env: { HOME: project.home },
    });
    expect(report.code, report.stderr + report.stdout).toBe(0);
    expect(report.stdout).toMatch(/succeeded/);
  });

  it("Ctrl+C cancels every task of the array (a running one and a queued one): no process left", async () => {
    project = await slurmProject();
    const marker = `offload-array-ctrlc-${process.pid}`;
    let pid = 0;
    const running = offload(
      project,
      ["sweep", "--param", "i=0,1,2", "--", `echo up {i}; while :; do sleep 1; done # ${marker}`],
      {
        onSpawn: (p) => {
          pid = p;
          started = p;
        },
      },
    );
    // Two nodes of one CPU: two tasks run, the third waits in the queue.
    const states = async () =>
      (await records(project as TempProject)).map((r) => r.slurm?.state ?? "").sort();
    await waitFor(async () => (await states()).join() === "PENDING,RUNNING,RUNNING");
    expect(await states()).toEqual(["PENDING", "RUNNING", "RUNNING"]);
    const tasks = () => processesWith(marker).filter((p) => p !== pid);
    await waitFor(() => tasks().length > 0);
    expect(tasks().length).toBeGreaterThan(0);
    process.kill(pid, "SIGINT");
    const result = await running;
    expect(result.code, result.stderr).toBe(1);
    const all = await records(project);
    expect(all).toHaveLength(3);
    for (const r of all)
      expect(r, JSON.stringify(r)).toMatchObject({
        status: "stopped",
        slurm: { state: "CANCELLED" },
      });
    const arrays = new Set(all.map((r) => r.slurm?.jobId.split("_")[0]));
    expect(arrays.size).toBe(1);
    // One scancel of the array for all its tasks, not one per task.
    expect(result.stderr).toContain(`cancelling Slurm job ${[...arrays][0]} (`);
    expect(result.stderr).not.toMatch(/cancelling Slurm job [0-9]+_/);
    expect(processesWith(marker)).toEqual([]);
    expect(squeue()).toEqual([]);
  });

  it("`offload stop SWEEP` from another terminal cancels the array; `attach SWEEP` of a left sweep finishes it", async () => {
    project = await slurmProject();
    const gate = join(cluster().workDir, `array-gate-${process.pid}`);
    mkdirSync(gate, { recursive: true });
    // Run 0 waits for the gate (bounded); run 1 never ends.
    const marker = `offload-array-stop-${process.pid}`;
    let pid = 0;
    const running = offload(
      project,
      [
        "sweep",
        "--param",
        "i=0,1",
        "--",
        `if [ {i} = 0 ]; then n=0; until [ -f ${gate}/go ]; do n=$((n + 1)); [ $n -lt 600 ] || exit 7; sleep 0.2; done; echo released; else echo forever; while :; do sleep 1; done; fi # ${marker}`,
      ],
      {
        onSpawn: (p) => {
          pid = p;
          started = p;
        },
      },
    );
    await waitFor(async () => {
      const all = await records(project as TempProject);
      return all.length === 2 && all.every((r) => r.slurm?.state === "RUNNING");
    });
    // The sweep's offload is gone (its follows with it); the tasks go on in Slurm.
    process.kill(pid, "SIGKILL");
    await running;
    const all = await records(project);
    const sweepId = all[0]?.tags?.sweep ?? "";
    const forever = all.find((r) => r.tags?.i === "1");
    expect(forever?.status).toBe("running");
    // attach SWEEP follows both again; stopping the endless one and opening the gate ends them.
    let attachStderr = "";
    const attaching = offload(project, ["attach", sweepId], {
      onStderr: (text) => {
        attachStderr += text;
      },
    });
    await waitFor(() => attachStderr.includes("2 running"));
    expect(attachStderr).toContain("2 running");
    // Run 0 ends on its own under the attach, which records it; then the stop ends run 1.
    writeFileSync(join(gate, "go"), "");
    const first = all.find((r) => r.tags?.i === "0")?.id ?? "";
    await waitFor(async () => (await project?.record(first))?.status === "succeeded");
    const stopped = await offload(project, ["stop", sweepId]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const attached = await attaching;
    expect(attached.code, attached.stderr).toBe(1);
    const ended = (await records(project)).sort((a, b) =>
      (a.tags?.i ?? "").localeCompare(b.tags?.i ?? ""),
    );
    expect(ended.map((r) => [r.status, r.slurm?.state])).toEqual([
      ["succeeded", "COMPLETED"],
      ["stopped", "CANCELLED"],
    ]);
    expect((await project.localLog(first)).toString()).toBe("released\n");
    expect(processesWith(marker)).toEqual([]);
  });
});
