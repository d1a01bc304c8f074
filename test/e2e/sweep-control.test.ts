// A sweep after its start, on 2 real SSH hosts of the test bed: `offload stop SWEEP` stops every live
// run and the `offload sweep` starts no more; `offload attach SWEEP` watches the runs another offload
// follows, follows to their end the runs nobody follows any more, and lists the grid points that
// never started.
import { execFileSync } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { type CliOptions, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, processesInHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

/** A sweep run that says it is up, then waits for a `go` file in its remote dir. */
const WAITING_JOB = 'echo "run {n} up"; while [ ! -f go ]; do sleep 0.2; done; echo "run {n} done"';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(ready: () => Promise<boolean> | boolean, tries = 600): Promise<void> {
  for (let i = 0; i < tries && !(await ready()); i++) await sleep(100);
}

describeWithHosts(2, "stop and attach by sweep id", (bed) => {
  const hosts = bed.hosts.slice(0, 2);
  let serial = 0;
  const remoteDir = () => {
    serial += 1;
    return `sweep-ctl-${process.pid}-${serial}`;
  };
  const offload = (p: TempProject, args: string[], extra: Partial<CliOptions> = {}) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd: p.dir,
      env: { HOME: p.home },
      ...extra,
    });
  const jobProcesses = (marker: string) =>
    hosts.flatMap((host) => processesInHost(host).filter((p) => p.cmdline.includes(marker)));
  /** The records of the project once `count` runs have said they are up in their logs. */
  const upRecords = async (p: TempProject, count: number) => {
    let ids: string[] = [];
    const isUp = async (id: string) =>
      (await p.localLog(id).catch(() => Buffer.alloc(0))).toString().includes(" up\n");
    await waitFor(async () => {
      ids = await p.runIds();
      return (await Promise.all(ids.map(isUp))).filter(Boolean).length >= count;
    });
    const records = await Promise.all(ids.map((id) => p.record(id)));
    expect(records).toHaveLength(count);
    return records;
  };

  /**
   * Starts a sweep of runs that wait for a `go` file, SIGKILLs its offload once `up` runs said so
   * (their jobs go on on the hosts, followed by nobody), then lets those jobs end: their records.
   */
  const killSweepAfter = async (p: TempProject, hostList: string, values: string, up: number) => {
    let pid = 0;
    const sweep = offload(
      p,
      [
        "sweep",
        "--host",
        hostList,
        "--remote-dir",
        remoteDir(),
        "--param",
        `n=${values}`,
        "--",
        "sh",
        "-c",
        WAITING_JOB,
      ],
      {
        onSpawn: (spawned) => {
          pid = spawned;
        },
      },
    );
    const records = await upRecords(p, up);
    process.kill(pid, "SIGKILL");
    await sweep;
    for (const record of records)
      execFileSync("ssh", [
        "-F",
        bed.sshConfig,
        record?.target.label ?? "",
        `touch ${record?.target.remoteDir}/go`,
      ]);
    return records;
  };

  it("stop SWEEP stops both running runs, the sweep starts none of its 2 queued ones, attach shows the table", async () => {
    project = await makeProject();
    const marker = `offload-sweep-stop-${process.pid}`;
    const sweep = offload(project, [
      "sweep",
      "--host",
      hosts.join(","),
      "--remote-dir",
      remoteDir(),
      "--param",
      "n=1,2,3,4",
      "--",
      "sh",
      "-c",
      `echo "run {n} up"; while :; do sleep 1; done # ${marker}`,
    ]);
    const records = await upRecords(project, 2);
    const sweepId = records[0]?.tags?.sweep ?? "";
    expect(sweepId).toMatch(/^\d{8}-\d{6}-\w{4}$/);

    // Another terminal watches the sweep while its `offload sweep` still follows the runs.
    let watched = "";
    const attach = offload(project, ["attach", sweepId], {
      onStderr: (text) => {
        watched += text;
      },
    });
    await waitFor(() => watched.includes("2 running"));

    const stop = await offload(project, ["stop", sweepId]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stderr).toContain(`stopping sweep ${sweepId}: 2 running of 2`);
    for (const record of records) expect(stop.stderr).toContain(`run ${record?.id} stopped`);

    const swept = await sweep;
    expect(swept.code, swept.stderr).toBe(1);
    expect(swept.stderr).toContain(
      `sweep ${sweepId} was stopped by \`offload stop\`; 2 runs were never started`,
    );
    const ids = await project.runIds();
    expect(ids).toHaveLength(2);
    const ended = await Promise.all(ids.map((id) => project?.record(id)));
    expect(ended.map((r) => r?.status)).toEqual(["stopped", "stopped"]);
    expect(jobProcesses(marker)).toEqual([]);

    const watchedEnd = await attach;
    // Stopped runs are not successes: 1, as `offload sweep` says.
    expect(watchedEnd.code, watchedEnd.stderr).toBe(1);
    expect(watchedEnd.stderr).toMatch(/\[2\/4\] #\d n=\d: stopped/);
    for (const id of ids) expect(watchedEnd.stdout).toMatch(new RegExp(`stopped .*${id}`));
    // The 2 points the stop kept from starting are in the table too, from the sweep's plan.
    expect(watchedEnd.stdout.match(/not started/g)).toHaveLength(2);
    expect(watchedEnd.stderr).toContain("2 of 4 grid points never started");
    // Watching left the ends the sweep recorded as they were.
    const after = await Promise.all(ids.map((id) => project?.record(id)));
    expect(after.map((r) => r?.status)).toEqual(["stopped", "stopped"]);

    // Nothing is running any more: a second stop says so and stops nothing.
    const again = await offload(project, ["stop", sweepId]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`no run of sweep ${sweepId} is running (2 recorded)`);
  });

  it("attach SWEEP follows to their end the runs of a sweep whose offload was killed", async () => {
    project = await makeProject();
    const records = await killSweepAfter(project, hosts.join(","), "1,2", 2);
    const sweepId = records[0]?.tags?.sweep ?? "";
    const attached = await offload(project, ["attach", sweepId]);
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stderr).toContain(`sweep ${sweepId}: 2 runs recorded, 2 running`);
    const ended = await Promise.all((await project.runIds()).map((id) => project?.record(id)));
    expect(ended.map((r) => `${r?.status} ${r?.exitCode}`)).toEqual(["succeeded 0", "succeeded 0"]);
    for (const record of ended) {
      const log = (await project.localLog(record?.id ?? "")).toString();
      expect(log).toBe(`run ${record?.tags?.n} up\nrun ${record?.tags?.n} done\n`);
      expect(attached.stdout).toMatch(new RegExp(`succeeded \\(exit 0\\) .*${record?.id}`));
    }
    // Rows numbered and ordered by grid point, as `offload sweep` printed them (not by run id).
    const rows = attached.stdout.trim().split("\n").slice(1);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 2).join(" "))).toEqual(["0 1", "1 2"]);
  });

  it("attach SWEEP lists the grid points a killed offload sweep never started, with how to run them, and exits 1", async () => {
    project = await makeProject();
    // One host without GPUs is one slot: 1 of the 4 points runs, 3 wait in the queue.
    const [record] = await killSweepAfter(project, hosts[0] ?? "", "1,2,3,4", 1);
    const sweepId = record?.tags?.sweep ?? "";
    const attached = await offload(project, ["attach", sweepId]);
    expect(attached.code, attached.stderr).toBe(1);
    expect(attached.stderr).toContain(
      `sweep ${sweepId}: 1 run recorded, 1 running, 3 grid points without a run`,
    );
    const rows = attached.stdout.trim().split("\n").slice(1);
    expect(
      rows.map((row) =>
        row
          .split(/\s{2,}/)
          .slice(0, 3)
          .join(" | "),
      ),
    ).toEqual([
      "0 | 1 | succeeded (exit 0)",
      "1 | 2 | not started",
      "2 | 3 | not started",
      "3 | 4 | not started",
    ]);
    expect(attached.stderr).toContain(
      "3 of 4 grid points never started (their offload sweep ended)",
    );
    for (const n of [2, 3, 4])
      expect(attached.stderr).toContain(
        `#${n - 1}: offload run -- sh -c '${WAITING_JOB.replaceAll("{n}", String(n))}'`,
      );
    // The run that started is followed to its end and recorded as ever.
    expect((await project.record(record?.id ?? "")).status).toBe("succeeded");

    // --json: the same rows.
    const json = await offload(project, ["attach", sweepId, "--json"]);
    expect(json.code, json.stderr).toBe(1);
    const table = JSON.parse(json.stdout.trim().split("\n").at(-1) ?? "{}");
    expect(
      table.runs.map((r: { index: number; state: string }) => `${r.index} ${r.state}`),
    ).toEqual(["0 succeeded", "1 not started", "2 not started", "3 not started"]);
  });
});
