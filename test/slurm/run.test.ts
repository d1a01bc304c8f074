// `offload run` on a target with `slurm:` against a real Slurm cluster (slurmctld, two slurmd, munge)
// reached over real ssh at its login node: sync there, submit, stream the job's output while Slurm
// queues and runs it, exit code and state from Slurm, scancel on Ctrl+C, attach to an earlier job.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type CliResult, jsonLines } from "../support/cli.js";
import type { TempProject } from "../support/project.js";
import { sleep, waitFor } from "../support/wait.js";
import { processesWith } from "../testbed/procfs.js";
import { describeWithSlurm } from "./cluster/describe.js";
import { slurmProjects } from "./cluster/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const ALLREDUCE = [
  "import datetime, os, socket, torch, torch.distributed as dist",
  'dist.init_process_group("gloo", init_method="env://", timeout=datetime.timedelta(seconds=60))',
  "r = dist.get_rank()",
  "t = torch.tensor([float(r + 1)])",
  "dist.all_reduce(t)",
  "print(f\"rank {r}/{dist.get_world_size()} node {os.environ['NODE_RANK']}/{os.environ['NNODES']} on {socket.gethostname()} sum {t.item()}\", flush=True)",
  "dist.destroy_process_group()",
  "",
].join("\n");

describeWithSlurm("offload run on a Slurm target", (cluster) => {
  const projects = slurmProjects(cluster, "run");
  /** A project on the cluster with `slurm` as its `slurm:` block. */
  const slurmProject = (slurm: string) =>
    projects.make(`reconnect:\n  timeout: 30\nslurm:\n${slurm}`);
  const { offload } = projects;

  async function onlyRecord(p: TempProject) {
    const ids = await p.runIds();
    expect(ids).toHaveLength(1);
    return p.record(ids[0] ?? "");
  }

  /** A --no-wait job that waits for a `release` file in its remote dir, then exits 6. */
  async function gatedJob(p: TempProject) {
    await p.write("gate.sh", "while [ ! -f release ]; do sleep 0.2; done; exit 6\n");
    const started = await offload(p, ["run", "--no-wait", "--", "sh", "gate.sh"]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    return { id, record: await p.record(id) };
  }

  /** The run as `offload ps --json` shows it (ps asks Slurm). */
  async function psLine(p: TempProject, id: string) {
    const ps = await offload(p, ["ps", "--json"]);
    expect(ps.code, ps.stderr).toBe(0);
    return jsonLines(ps.stdout).find((line) => line.id === id);
  }

  /** Releases a gatedJob, then asks ps until it no longer shows it running: ps's last line. */
  async function releaseAndWait(p: TempProject, id: string, remoteDir: string) {
    writeFileSync(join(remoteDir, "release"), "");
    let seen: { status?: string } | undefined;
    for (let i = 0; i < 60 && (seen?.status ?? "running") === "running"; i++) {
      await sleep(500);
      seen = await psLine(p, id);
    }
    return seen;
  }

  it("runs a 1-node job: workspace synced, output streamed, COMPLETED with code 0, job id recorded", async () => {
    project = await slurmProject("  time: 5\n");
    await project.write("hello.sh", 'echo "hello from $(hostname) rank $RANK of $WORLD_SIZE"\n');
    const result = await offload(project, ["run", "--", "sh", "hello.sh"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^hello from slurm-h[23] rank 0 of 1\n$/);
    expect(result.stderr).toMatch(/submitted Slurm job \d+/);
    expect(result.stderr).toMatch(/Slurm job \d+: COMPLETED/);
    const record = await onlyRecord(project);
    expect(record).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(record.slurm).toMatchObject({
      jobId: expect.stringMatching(/^\d+$/),
      state: "COMPLETED",
    });
    expect((await project.localLog(record.id)).toString()).toBe(result.stdout);
  });

  it("runs a 2-node job: srun starts a rank on each node and a gloo all_reduce sums across them", async () => {
    project = await slurmProject("  nodes: 2\n");
    await project.write("allreduce.py", ALLREDUCE);
    // Namespace hostnames do not resolve: gloo must be told which interface to use.
    await project.write(
      "offload.yaml",
      `${readFileSync(join(project.dir, "offload.yaml"), "utf8")}env:\n  GLOO_SOCKET_IFNAME: eth0\n`,
    );
    const result = await offload(project, ["run", "--", "/usr/bin/python3", "allreduce.py"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n").sort()).toEqual([
      "rank 0/2 node 0/2 on slurm-h2 sum 3.0",
      "rank 1/2 node 1/2 on slurm-h3 sum 3.0",
    ]);
    expect((await onlyRecord(project)).slurm).toMatchObject({
      state: "COMPLETED",
      nodes: "slurm-h[2-3]",
    });
  });

  it("exits with a failing job's own code; the record says FAILED from Slurm", async () => {
    project = await slurmProject("  nodes: 1\n");
    const result = await offload(project, ["run", "--", "sh", "-c", "echo about to fail; exit 7"]);
    expect(result.code, result.stderr).toBe(7);
    expect(result.stdout).toContain("about to fail\n");
    expect(result.stderr).toMatch(/Slurm job \d+: FAILED \(NonZeroExitCode\)/);
    expect(await onlyRecord(project)).toMatchObject({
      status: "failed",
      exitCode: 7,
      slurm: { state: "FAILED", reason: "NonZeroExitCode" },
    });
  });

  it("Ctrl+C cancels the job with scancel: CANCELLED, stopped, and no process of it is left", async () => {
    project = await slurmProject("  nodes: 1\n");
    const marker = `offload-slurm-ctrlc-${process.pid}`;
    let pid = 0;
    let stdout = "";
    const running = offload(
      project,
      [
        "run",
        "--",
        "sh",
        "-c",
        `trap '' TERM; echo started; while :; do sleep 1; done # ${marker}`,
      ],
      {
        onSpawn: (p) => {
          pid = p;
        },
        onStdout: (text) => {
          stdout += text;
        },
      },
    );
    await waitFor(() => stdout.includes("started"));
    expect(processesWith(marker).length).toBeGreaterThan(0);
    process.kill(pid, "SIGINT");
    const result = await running;
    expect(result.stderr).toContain("cancelling Slurm job");
    expect(result.stderr).toMatch(/Slurm job \d+: CANCELLED/);
    // 128 + TERM, as Slurm reports a cancelled job.
    expect(result.code, result.stderr).toBe(143);
    expect(await onlyRecord(project)).toMatchObject({
      status: "stopped",
      stopRequested: true,
      slurm: { state: "CANCELLED" },
    });
    expect(processesWith(marker)).toEqual([]);
  });

  /**
   * `use` runs while a 2-node job (`marker` in its command) holds both compute nodes, so a next job
   * waits PENDING; the holder is stopped and its project removed after, whatever happened.
   */
  async function whileNodesHeld(
    marker: string,
    use: (hog: TempProject, hogId: string) => Promise<void>,
  ): Promise<void> {
    const hog = await slurmProject("  nodes: 2\n");
    const hogged = await offload(hog, [
      "run",
      "--no-wait",
      "--",
      "sh",
      "-c",
      `echo hogging; while :; do sleep 1; done # ${marker}`,
    ]);
    expect(hogged.code, hogged.stderr).toBe(0);
    const hogId = hogged.stdout.trim();
    try {
      await use(hog, hogId);
    } finally {
      await offload(hog, ["stop", hogId]);
      await hog.remove();
    }
  }

  it("shows a job waiting for nodes as PENDING with Slurm's reason, then on which node it runs", async () => {
    const marker = `offload-slurm-hog-${process.pid}`;
    await whileNodesHeld(marker, async (hog, hogId) => {
      project = await slurmProject("  nodes: 1\n");
      let stderr = "";
      const waiting = offload(project, ["run", "--", "sh", "-c", "echo finally ran"], {
        onStderr: (text) => {
          stderr += text;
        },
      });
      await waitFor(() => /PENDING \((Resources|Priority)\)/.test(stderr));
      expect(stderr).toMatch(/Slurm job \d+: PENDING \((Resources|Priority)\)/);
      const stopped = await offload(hog, ["stop", hogId]);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stderr).toContain(`run ${hogId} stopped`);
      const result: CliResult = await waiting;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe("finally ran\n");
      expect(result.stderr).toMatch(/Slurm job \d+: (RUNNING on|COMPLETED .*on) slurm-h[23]/);
      expect(await hog.record(hogId)).toMatchObject({
        status: "stopped",
        slurm: { state: "CANCELLED" },
      });
      expect(processesWith(marker)).toEqual([]);
    });
  });

  it("Ctrl+C on a job still waiting for nodes: CANCELLED, without the reason it waited for", async () => {
    await whileNodesHeld(`offload-slurm-hog2-${process.pid}`, async () => {
      project = await slurmProject("  nodes: 1\n");
      let stderr = "";
      let pid = 0;
      const waiting = offload(project, ["run", "--", "sh", "-c", "echo never ran"], {
        onSpawn: (p) => {
          pid = p;
        },
        onStderr: (text) => {
          stderr += text;
        },
      });
      await waitFor(() => /PENDING \((Resources|Priority)\)/.test(stderr));
      expect(stderr).toMatch(/Slurm job \d+: PENDING \((Resources|Priority)\)/);
      process.kill(pid, "SIGINT");
      const result: CliResult = await waiting;
      expect(result.stdout).toBe("");
      // Slurm keeps a cancelled job's last pending reason: it is not why the job ended.
      expect(result.stderr).toMatch(/Slurm job \d+: CANCELLED$/m);
      const record = await onlyRecord(project);
      expect(record).toMatchObject({ status: "stopped", slurm: { state: "CANCELLED" } });
      expect(record.slurm?.reason).toBeUndefined();
    });
  });

  it("ps asks Slurm: a --no-wait job shows running while it runs, then its end as Slurm says it", async () => {
    const p = await slurmProject("  nodes: 1\n");
    project = p;
    const { id, record } = await gatedJob(p);
    expect(await psLine(p, id)).toMatchObject({ status: "running" });
    const seen = await releaseAndWait(p, id, record.target.remoteDir);
    expect(seen).toMatchObject({ status: "failed", exitCode: 6 });
    expect(await p.record(id)).toMatchObject({
      status: "failed",
      exitCode: 6,
      slurm: { state: "FAILED" },
    });
  });

  it("ps finds the job of a record left launching (offload killed between sbatch's answer and the record's save)", async () => {
    const p = await slurmProject("  nodes: 1\n");
    project = p;
    const { id, record } = await gatedJob(p);
    const jobId = record.slurm?.jobId;
    expect(jobId).toMatch(/^\d+$/);
    // The record as that kill leaves it: saved before the submit, no job id in it.
    const file = join(p.dir, ".offload/runs", id, "run.json");
    const { slurm: _, ...left } = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...left, status: "launching" }));
    expect(await psLine(p, id)).toMatchObject({ status: "running", slurm: { jobId } });
    const seen = await releaseAndWait(p, id, record.target.remoteDir);
    expect(seen).toMatchObject({ status: "failed", exitCode: 6, slurm: { jobId } });
  });

  it("sbatch refuses the job (an unknown partition): Slurm's words, exit 200, no run left launching", async () => {
    const p = await slurmProject("  partition: nosuch\n");
    project = p;
    const refused = await offload(p, ["run", "--", "echo", "never"]);
    expect(refused.code, refused.stderr).toBe(200);
    expect(refused.stderr).toContain("E_LAUNCH");
    expect(refused.stderr).toContain("Invalid partition name specified");
    // Nothing was submitted: no record is left `launching` for ps, attach or stop to trip over.
    const ps = await offload(p, ["ps", "--json"]);
    expect(ps.code, ps.stderr).toBe(0);
    expect(jsonLines(ps.stdout).filter((line) => line.status === "launching")).toEqual([]);
    expect(await p.runIds()).toEqual([]);
    // The remote dir is free: the next run there is not refused as in use.
    await p.write(
      "offload.yaml",
      readFileSync(join(p.dir, "offload.yaml"), "utf8").replace(
        "  partition: nosuch\n",
        "  nodes: 1\n",
      ),
    );
    const next = await offload(p, ["run", "--", "echo", "next"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toBe("next\n");
  });

  it("a job still queued holds its remote dir: another run there is refused, even with no offload beating", async () => {
    const p = await slurmProject("  nodes: 1\n  args: [--hold]\n");
    project = p;
    const held = await offload(p, ["run", "--no-wait", "--", "echo", "held"]);
    expect(held.code, held.stderr).toBe(0);
    const id = held.stdout.trim();
    const { remoteDir } = (await p.record(id)).target;
    try {
      // As if the offload that submitted it were long gone: its heartbeat is stale.
      writeFileSync(join(remoteDir, ".offload/runs", id, "heartbeat"), "1\n");
      const next = await offload(p, ["run", "--", "echo", "next"], { timeoutMs: 60_000 });
      expect(next.code, next.stderr).toBe(202);
      expect(next.stderr).toContain(`in use by run ${id}`);
    } finally {
      const stopped = await offload(p, ["stop", id]);
      expect(stopped.code, stopped.stderr).toBe(0);
    }
    // Cancelled, the job frees the dir (for a job that is not held this time).
    const yaml = readFileSync(join(p.dir, "offload.yaml"), "utf8");
    await p.write("offload.yaml", yaml.replace("  args: [--hold]\n", ""));
    const after = await offload(p, ["run", "--", "echo", "after"]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe("after\n");
  });

  it("attaches to a job of a named target (`--host cluster`, as the README shows): Slurm, not the run protocol", async () => {
    // Host and remote dir only in the target: attach must find the target again, `slurm:` and all.
    project = await projects.make("");
    const { workDir } = cluster();
    await project.write(
      "offload.yaml",
      `targets:\n  cluster:\n    host: ${cluster().login}\n    remote_dir: ${join(workDir, `named-${process.pid}`)}\n    slurm:\n      nodes: 1\n`,
    );
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      "cluster",
      "--",
      "sh",
      "-c",
      "echo first; sleep 2; exit 5",
    ]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect((await project.record(id)).target).toMatchObject({
      label: cluster().login,
      name: "cluster",
    });
    const attached = await offload(project, ["attach", id]);
    expect(attached.code, attached.stderr).toBe(5);
    expect(attached.stdout).toMatch(/^first\n/);
    expect(attached.stderr).toMatch(/Slurm job \d+: FAILED/);
    expect(await project.record(id)).toMatchObject({ status: "failed", exitCode: 5 });
  });

  it("attaches to a job submitted with --no-wait: the whole log, the end from Slurm", async () => {
    project = await slurmProject("  nodes: 1\n");
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--",
      "sh",
      "-c",
      "echo first; sleep 2; echo second; exit 4",
    ]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(await project.record(id)).toMatchObject({
      status: "running",
      slurm: { jobId: expect.stringMatching(/^\d+$/) },
    });
    const attached = await offload(project, ["attach", id]);
    expect(attached.code, attached.stderr).toBe(4);
    // srun's own words about the failed task follow the job's lines, as on any cluster.
    expect(attached.stdout).toMatch(
      /^first\nsecond\nsrun: error: slurm-h[23]: task 0: Exited with exit code 4\n/,
    );
    expect(await project.record(id)).toMatchObject({ status: "failed", exitCode: 4 });
    expect((await project.localLog(id)).toString()).toBe(attached.stdout);
    // The job's end freed the remote dir: the next run goes ahead at once, with nothing to reclaim.
    const next = await offload(project, ["run", "--", "echo", "next"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toBe("next\n");
    expect(next.stderr).not.toContain("reclaimed");
  });
});
