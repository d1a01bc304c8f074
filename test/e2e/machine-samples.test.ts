// Machine samples on a real test-bed host: the sampler the launcher starts records CPU and memory into
// the run's remote dir, offload brings machine.txt home byte for byte beside the log, a recorded
// nvidia-smi reply put on the job's PATH flows through to the GPU rows, and no sampler process is left
// once the job has ended: after a run, and after `offload stop` of a run whose offload was killed -9.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { parseSamples } from "../../src/remote/samples.js";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/machine");
let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

/** Pids of live (not zombie) processes whose process group is `pgid` (the bed shares this PID space). */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of execFileSync("ps", ["-eo", "pid=,pgid=,stat="]).toString().split("\n")) {
    const [pid, group, stat] = entry.trim().split(/\s+/);
    if (Number(group) === pgid && stat !== undefined && !stat.startsWith("Z"))
      pids.push(Number(pid));
  }
  return pids;
}

describeWithHosts(2, "machine samples", (bed) => {
  // A calm host: h3 and h4 take the fault tests.
  const host = bed.hosts[1] ?? "offload-h2";
  const ssh = (command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, "-o", "ConnectTimeout=5", host, command]);
  const offload = (p: TempProject, args: string[], onStdout?: (text: string) => void) =>
    runCli(args, {
      cwd: p.dir,
      env: { HOME: p.home },
      timeoutMs: 120_000,
      ...(onStdout ? { onStdout } : {}),
    });
  /** offload.yaml: the bed's ssh config, a sample each second, and `more`. */
  const yaml = (more: string) =>
    `ssh:\n  config_file: ${bed.sshConfig}\nmachine_metrics: 1\n${more}`;
  const samplesOf = (p: TempProject, id: string) =>
    readFile(join(p.dir, ".offload/runs", id, "machine.txt"), "utf8");

  it("records CPU and memory on the host and brings the file home byte for byte", async () => {
    const p = await makeProject();
    project = p;
    await p.write("offload.yaml", yaml(""));
    const run = await offload(p, ["run", "--host", host, "--", "sh", "-c", "sleep 4; echo done"]);
    expect(run.code, run.stderr).toBe(0);
    const [id] = await p.runIds();
    if (id === undefined) throw new Error("no run recorded");
    const home = await samplesOf(p, id);
    const record = await p.record(id);
    const remote = ssh(`cat ${record.target.remoteDir}/.offload/runs/${id}/machine.txt`).toString();
    expect(home).toBe(remote);
    const samples = parseSamples(home);
    // A four-second job sampled each second: several samples, each with the host's memory.
    expect(samples.length).toBeGreaterThanOrEqual(2);
    for (const sample of samples) {
      expect(sample.memoryTotalBytes).toBeGreaterThan(0);
      expect(sample.diskTotalBytes).toBeGreaterThan(0);
      expect(sample.gpus).toEqual([]);
    }
    expect(samples.at(-1)?.cpuPercent).toBeGreaterThanOrEqual(0);
    const sampler = Number(
      ssh(`cat ${record.target.remoteDir}/.offload/runs/${id}/sampler.pid`).toString(),
    );
    expect(sampler).toBeGreaterThan(0);
    expect(groupMembers(sampler)).toEqual([]);
  });

  it("carries a recorded nvidia-smi reply from the job's PATH to the GPU rows", async () => {
    const p = await makeProject();
    project = p;
    const bin = `/tmp/offload-fake-gpu-${process.pid}`;
    const reply = readFileSync(join(FIXTURES, "nvidia-smi-h100-8x.csv"), "utf8");
    // A recorded reply replayed: nvidia-smi itself cannot exist on this machine.
    ssh(
      `mkdir -p ${bin} && printf '%s\\n' '#!/bin/sh' 'cat <<"EOF"' '${reply.trim().split("\n").join("' '")}' 'EOF' > ${bin}/nvidia-smi && chmod +x ${bin}/nvidia-smi`,
    );
    try {
      await p.write("offload.yaml", yaml(`env:\n  PATH: ${bin}:/usr/local/bin:/usr/bin:/bin\n`));
      const run = await offload(p, ["run", "--host", host, "--", "sleep", "2"]);
      expect(run.code, run.stderr).toBe(0);
      const [id] = await p.runIds();
      const samples = parseSamples(await samplesOf(p, id ?? ""));
      expect(samples.length).toBeGreaterThanOrEqual(1);
      const gpus = samples[0]?.gpus ?? [];
      expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(gpus[0]).toEqual({
        index: 0,
        utilizationPercent: 100,
        memoryUsedMiB: 75309,
        memoryTotalMiB: 81559,
      });
      expect(gpus[3]).toEqual({ index: 3, memoryUsedMiB: 13, memoryTotalMiB: 81559 });
      // The report shows each GPU's load and its memory at its peak.
      const report = await offload(p, ["report", id ?? ""]);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toMatch(/^ {2}gpu0 +100% +100% /m);
      expect(report.stdout).toMatch(/^ {2}gpu7 +- +- /m);
      expect(report.stdout).toContain("gpu0 memory peak 73.5 GiB of 79.6 GiB");
    } finally {
      ssh(`rm -rf ${bin}`);
    }
  });

  it("leaves no sampler behind after `offload stop` of a run whose offload was killed -9", async () => {
    const p = await makeProject();
    project = p;
    await p.write("offload.yaml", yaml(""));
    let seen = "";
    let killed = false;
    let pid = 0;
    const following = runCli(["run", "--host", host, "--", "sh", "-c", "echo up; sleep 300"], {
      cwd: p.dir,
      env: { HOME: p.home },
      timeoutMs: 120_000,
      onSpawn: (spawned) => {
        pid = spawned;
      },
      onStdout: (text) => {
        seen += text;
        if (!killed && seen.includes("up")) {
          killed = true;
          process.kill(pid, "SIGKILL");
        }
      },
    });
    const run = await following;
    expect(run.code).toBe(137);
    const [id] = await p.runIds();
    if (id === undefined) throw new Error("no run recorded");
    const record = await p.record(id);
    const dir = `${record.target.remoteDir}/.offload/runs/${id}`;
    // The job and its sampler outlive the killed offload: the run goes on over there.
    const sampler = Number(
      ssh(
        `i=0; while [ ! -s ${dir}/sampler.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; cat ${dir}/sampler.pid`,
      ).toString(),
    );
    expect(groupMembers(sampler).length).toBeGreaterThan(0);
    const stop = await offload(p, ["stop", id]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(groupMembers(sampler)).toEqual([]);
    expect(ssh(`cat ${dir}/exit`).toString().trim()).toBe("143");
  });
});
