// SlurmClient against a real Slurm cluster (slurmctld, slurmd on two compute hosts, munge) reached
// over real ssh at its login node: submit, follow by byte offset, exit codes and states, scancel,
// PENDING with its reason, srun across nodes with a gloo all_reduce.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SlurmClient } from "../../src/backends/slurm/client.js";
import { exitCodeOf } from "../../src/backends/slurm/parse.js";
import type { SlurmJobStatus, SlurmPlan } from "../../src/backends/slurm/types.js";
import { SshTransport } from "../../src/transport/ssh.js";
import { processesWith } from "../testbed/procfs.js";
import { startController, stopController } from "./cluster/cluster.js";
import { describeWithSlurm } from "./cluster/describe.js";

let serial = 0;
/** A run id as offload makes them (the run dir's name), unique within this file. */
function nextRunId(): string {
  serial += 1;
  return `20261201-000000-t${String(serial).padStart(3, "0")}`;
}

describeWithSlurm("Slurm backend on a real cluster", (cluster) => {
  let controlDir: string;
  let transport: SshTransport;
  let backend: SlurmClient;

  beforeAll(() => {
    controlDir = mkdtempSync(join(tmpdir(), "osl-"));
    transport = new SshTransport({
      label: cluster().login,
      host: cluster().login,
      configFile: cluster().sshConfig,
      controlDir,
    });
    backend = new SlurmClient(transport);
  });
  afterAll(async () => {
    await transport?.close();
    rmSync(controlDir, { recursive: true, force: true });
  });

  function plan(command: string[], slurm: SlurmPlan["slurm"] = {}, env = {}): SlurmPlan {
    const runId = nextRunId();
    const remoteDir = join(cluster().workDir, runId);
    mkdirSync(remoteDir, { recursive: true });
    return { runId, remoteDir, command, env, slurm };
  }

  async function runToEnd(p: SlurmPlan) {
    const ref = await backend.launch(p);
    const chunks: Buffer[] = [];
    const states: SlurmJobStatus[] = [];
    const result = await backend.follow(ref, 0, {
      onOutput: (chunk) => chunks.push(chunk),
      onState: (status) => states.push(status),
    });
    return { ref, result, states, output: Buffer.concat(chunks).toString("utf8") };
  }

  it("runs a 1-node job: output streamed, torchrun's contract in the env, COMPLETED with code 0", async () => {
    const p = plan(
      [
        "sh",
        "-c",
        'echo "on $(hostname) rank=$RANK/$WORLD_SIZE node=$NODE_RANK/$NNODES master=$MASTER_ADDR:$MASTER_PORT greeting=$GREETING"',
      ],
      {},
      { GREETING: "it's a $(quoted) value" },
    );
    const { ref, result, output } = await runToEnd(p);
    expect(ref.jobId).toMatch(/^\d+$/);
    expect(output).toMatch(
      /^on slurm-h[23] rank=0\/1 node=0\/1 master=10\.201\.1\.[34]:\d+ greeting=it's a \$\(quoted\) value\n$/,
    );
    expect(result.offset).toBe(Buffer.byteLength(output));
    expect(result.final).toMatchObject({ state: "COMPLETED", exitCode: 0 });
    // squeue may not catch a job this short running; how it ended names the node.
    expect(result.final?.nodes).toMatch(/^slurm-h[23]$/);
    // The job id is in the run dir too, for an offload that attaches later.
    const kept = readFileSync(join(p.remoteDir, ".offload/runs", p.runId, "slurm-job"), "utf8");
    expect(kept.trim()).toBe(ref.jobId);
    expect(await backend.status(ref.jobId)).toMatchObject({ state: "COMPLETED", exitCode: 0 });
  });

  it("runs a 2-node job: srun starts one rank per node and a gloo all_reduce sums across them", async () => {
    const p = plan(
      ["/usr/bin/python3", "allreduce.py"],
      { nodes: 2 },
      { GLOO_SOCKET_IFNAME: "eth0" },
    );
    writeFileSync(
      join(p.remoteDir, "allreduce.py"),
      [
        "import datetime, os, socket, torch, torch.distributed as dist",
        'dist.init_process_group("gloo", init_method="env://", timeout=datetime.timedelta(seconds=60))',
        "r = dist.get_rank()",
        "t = torch.tensor([float(r + 1)])",
        "dist.all_reduce(t)",
        "print(f\"rank {r}/{dist.get_world_size()} node {os.environ['NODE_RANK']} on {socket.gethostname()} ips {os.environ['OFFLOAD_NODE_IPS']} sum {t.item()}\", flush=True)",
        "dist.destroy_process_group()",
      ].join("\n"),
    );
    const { result, output } = await runToEnd(p);
    const lines = output.trim().split("\n").sort();
    expect(lines).toEqual([
      "rank 0/2 node 0 on slurm-h2 ips 10.201.1.3,10.201.1.4 sum 3.0",
      "rank 1/2 node 1 on slurm-h3 ips 10.201.1.3,10.201.1.4 sum 3.0",
    ]);
    expect(result.final).toMatchObject({ state: "COMPLETED", exitCode: 0, nodes: "slurm-h[2-3]" });
  });

  it("reports a failing job's own exit code and Slurm's FAILED state", async () => {
    const { result, output } = await runToEnd(
      plan(["sh", "-c", "echo before the failure; exit 3"]),
    );
    // srun's own words about the failure are part of the job's output, as on any cluster; they come
    // from another process than the task's line, so in either order.
    const lines = output.trimEnd().split("\n");
    expect(lines).toContain("before the failure");
    expect(lines).toContainEqual(
      expect.stringMatching(/^srun: error: slurm-h[23]: task 0: Exited with exit code 3$/),
    );
    expect(result.final).toMatchObject({ state: "FAILED", exitCode: 3, reason: "NonZeroExitCode" });
  });

  it("stops a job with scancel: CANCELLED, and no process of it is left, even one ignoring TERM", async () => {
    const marker = `offload-slurm-stubborn-${process.pid}`;
    const p = plan([
      "sh",
      "-c",
      `trap '' TERM; echo started; while :; do sleep 1; done # ${marker}`,
    ]);
    const ref = await backend.launch(p);
    let started!: () => void;
    const seen = new Promise<void>((resolve) => {
      started = resolve;
    });
    const following = backend.follow(ref, 0, {
      onOutput: (chunk) => {
        if (chunk.toString().includes("started")) started();
      },
    });
    await seen;
    expect(processesWith(marker).length).toBeGreaterThan(0);
    const stopped = await backend.stop(ref.jobId);
    expect(stopped.state).toBe("CANCELLED");
    expect(exitCodeOf(stopped)).toBe(143);
    expect((await following).final?.state).toBe("CANCELLED");
    expect(processesWith(marker)).toEqual([]);
  });

  it("shows a job waiting for nodes as PENDING with Slurm's reason, then follows it to the end", async () => {
    const marker = `offload-slurm-hog-${process.pid}`;
    const hog = await backend.launch(
      plan(["sh", "-c", `echo hogging; while :; do sleep 1; done # ${marker}`], { nodes: 2 }),
    );
    try {
      const waiting = await backend.launch(plan(["sh", "-c", "echo finally ran; sleep 2"]));
      const states: SlurmJobStatus[] = [];
      let pendingSeen!: () => void;
      const pending = new Promise<void>((resolve) => {
        pendingSeen = resolve;
      });
      const chunks: Buffer[] = [];
      const following = backend.follow(waiting, 0, {
        onOutput: (chunk) => chunks.push(chunk),
        onState: (status) => {
          states.push(status);
          if (status.state === "PENDING" && status.reason !== undefined) pendingSeen();
        },
      });
      await pending;
      // A job just queued has no reason yet; then Slurm says why it waits (Priority, then Resources).
      const waitingWhy = states.find((s) => s.reason !== undefined);
      expect(waitingWhy?.state).toBe("PENDING");
      expect(["Priority", "Resources"]).toContain(waitingWhy?.reason);
      expect(waitingWhy?.nodes).toBeUndefined();
      await backend.stop(hog.jobId);
      const result = await following;
      expect(Buffer.concat(chunks).toString()).toBe("finally ran\n");
      expect(result.final).toMatchObject({ state: "COMPLETED", exitCode: 0 });
      expect(states.find((s) => s.state === "RUNNING")?.nodes).toMatch(/^slurm-h[23]$/);
      expect(result.final?.nodes).toMatch(/^slurm-h[23]$/);
    } finally {
      await backend.stop(hog.jobId);
    }
  });

  it("says what Slurm said when it refuses a job, and keeps no job id for it", async () => {
    const p = plan(["true"], { partition: "nosuch" });
    await expect(backend.launch(p)).rejects.toMatchObject({
      code: "E_LAUNCH",
      message: expect.stringContaining("Invalid partition name specified"),
    });
    expect(await backend.find(p.remoteDir, p.runId)).toBeUndefined();
  });

  it("passes the user's sbatch arguments: a held job is PENDING with reason JobHeldUser", async () => {
    const ref = await backend.launch(plan(["true"], { extraArgs: ["--hold"] }));
    expect(await backend.status(ref.jobId)).toMatchObject({
      state: "PENDING",
      reason: "JobHeldUser",
    });
    expect(await backend.stop(ref.jobId)).toMatchObject({ state: "CANCELLED" });
  });

  it("attaches to a job an earlier offload submitted: found by its run dir, followed from the start", async () => {
    const p = plan(["sh", "-c", "echo first; sleep 1; echo second"]);
    const submitted = await backend.launch(p);
    // Another offload: its own ssh connection, knowing only the remote dir and the run id.
    const otherDir = mkdtempSync(join(tmpdir(), "osl-"));
    const other = new SshTransport({
      label: cluster().login,
      host: cluster().login,
      configFile: cluster().sshConfig,
      controlDir: otherDir,
    });
    try {
      const later = new SlurmClient(other);
      const found = await later.find(p.remoteDir, p.runId);
      expect(found).toEqual(submitted);
      const chunks: Buffer[] = [];
      const result = await later.follow(found ?? submitted, 0, { onOutput: (c) => chunks.push(c) });
      expect(Buffer.concat(chunks).toString()).toBe("first\nsecond\n");
      expect(result.final).toMatchObject({ state: "COMPLETED", exitCode: 0 });
      // A run dir that never submitted anything holds no job.
      const empty = plan(["true"]);
      mkdirSync(join(empty.remoteDir, ".offload/runs", empty.runId), { recursive: true });
      expect(await later.find(empty.remoteDir, empty.runId)).toBeUndefined();
    } finally {
      await other.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it("keeps following while the controller is away: no answer from squeue is not the job's end", async () => {
    const ref = await backend.launch(plan(["sh", "-c", "echo before; sleep 6; echo after"]));
    const chunks: Buffer[] = [];
    let away!: (message: string) => void;
    const noticed = new Promise<string>((resolve) => {
      away = resolve;
    });
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const following = backend.follow(ref, 0, {
      onOutput: (chunk) => {
        chunks.push(chunk);
        started();
      },
      onUnreachable: (message) => away(message),
    });
    await running;
    stopController();
    try {
      // A follow that took the silence for the job's end would finish here, with half the output.
      const ended = following.then(() => "the follow ended");
      const first = await Promise.race([noticed, ended]);
      expect(first).not.toBe("the follow ended");
      expect(first).toMatch(/slurm|connect|Unable|answer/i);
    } finally {
      await startController();
    }
    const result = await following;
    expect(Buffer.concat(chunks).toString()).toBe("before\nafter\n");
    expect(result.final).toMatchObject({ state: "COMPLETED", exitCode: 0 });
  });

  it("resumes a follow from a byte offset: the second follow gives the rest and nothing twice", async () => {
    const p = plan(["sh", "-c", "echo line 1; sleep 2; for i in 2 3 4 5; do echo line $i; done"]);
    const ref = await backend.launch(p);
    const controller = new AbortController();
    const first: Buffer[] = [];
    const left = await backend.follow(ref, 0, {
      onOutput: (chunk) => {
        first.push(chunk);
        controller.abort();
      },
      signal: controller.signal,
    });
    expect(left.final).toBeUndefined();
    expect(Buffer.concat(first).toString()).toBe("line 1\n");
    expect(left.offset).toBe(7);
    const rest: Buffer[] = [];
    const done = await backend.follow(ref, left.offset, { onOutput: (chunk) => rest.push(chunk) });
    expect(Buffer.concat([...first, ...rest]).toString()).toBe(
      "line 1\nline 2\nline 3\nline 4\nline 5\n",
    );
    expect(done.final).toMatchObject({ state: "COMPLETED", exitCode: 0 });
    // A follow of a finished job from its end gives no byte and the same ending.
    const again: Buffer[] = [];
    const after = await backend.follow(ref, done.offset, {
      onOutput: (chunk) => again.push(chunk),
    });
    expect(again).toEqual([]);
    expect(after).toEqual(done);
  });
});
