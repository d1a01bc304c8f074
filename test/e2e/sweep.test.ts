// `offload sweep` over 2 real SSH hosts of the test bed: a 3×2 grid becomes 6 runs, each with its own
// remote dir and a record tagged with its parameters; one failing run leaves the others; `offload
// report SWEEP` compares them by their metric.
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, processesInHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

// A "training" whose loss depends on its parameters; lr=bad fails after its first epoch.
const TRAIN = [
  "lr=$1; bs=$2",
  'echo "training lr=$lr bs=$bs on $(hostname) in $(pwd)"',
  "for epoch in 1 2 3; do",
  '  [ "$lr" = bad ] && [ $epoch = 2 ] && { echo "diverged" >&2; exit 5; }',
  '  loss=$(awk -v e=$epoch -v b=$bs -v l=$lr \'BEGIN { if (l == "bad") l = 1; printf "%.4f", 1 / (e * b * l) }\')',
  '  echo "{\\"epoch\\": $epoch, \\"epochs\\": 3, \\"val_loss\\": $loss}"',
  "done",
  "",
].join("\n");

describeWithHosts(2, "offload sweep over 2 hosts", (bed) => {
  const hosts = bed.hosts.slice(2, 4);

  it("runs a 3×2 grid as 6 runs over 2 hosts; the failing one leaves the others; report compares them", async () => {
    project = await makeProject();
    await project.write("train.sh", TRAIN);
    const remoteDir = `sweep-${process.pid}`;
    const result = await runCli(
      [
        "sweep",
        "--ssh-config",
        bed.sshConfig,
        "--host",
        hosts.join(","),
        "--remote-dir",
        remoteDir,
        "--param",
        "lr=1,3,bad",
        "--param",
        "bs=10,20",
        "--",
        "sh",
        "train.sh",
        "{lr}",
        "{bs}",
      ],
      { cwd: project.dir, env: { HOME: project.home } },
    );
    // One run failed: the sweep says so with 1, after finishing all the others.
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("sweep of 6 runs over");
    expect(result.stderr).toMatch(/\[6\/6\] #\d lr=\S+ bs=\d+: \w+/);
    const ids = await project.runIds();
    expect(ids).toHaveLength(6);
    const records = await Promise.all(ids.map((id) => project?.record(id)));
    const sweepIds = new Set(records.map((r) => r?.tags?.sweep));
    expect(sweepIds.size).toBe(1);
    const sweepId = [...sweepIds][0] ?? "";
    const byParams = new Map(records.map((r) => [`${r?.tags?.lr} ${r?.tags?.bs}`, r]));
    expect([...byParams.keys()].sort()).toEqual([
      "1 10",
      "1 20",
      "3 10",
      "3 20",
      "bad 10",
      "bad 20",
    ]);
    for (const [params, record] of byParams) {
      const failing = params.startsWith("bad");
      expect(record?.status, params).toBe(failing ? "failed" : "succeeded");
      expect(record?.exitCode, params).toBe(failing ? 5 : 0);
      expect(hosts).toContain(record?.target.label);
      // Each run its own remote dir; its log says which parameters it got.
      expect(record?.target.remoteDir).toMatch(
        new RegExp(`/${remoteDir}\\.sweeps/${sweepId}-\\d$`),
      );
      const log = (await project.localLog(record?.id ?? "")).toString();
      expect(log).toContain(
        `training lr=${params.split(" ")[0]} bs=${params.split(" ")[1]} on ${record?.target.label} in ${record?.target.remoteDir}\n`,
      );
    }
    expect(new Set(records.map((r) => r?.target.remoteDir)).size).toBe(6);
    // Both hosts took runs.
    expect(new Set(records.map((r) => r?.target.label))).toEqual(new Set(hosts));
    // The table names every run.
    for (const id of ids) expect(result.stdout).toContain(id);

    const report = await runCli(["report", sweepId], {
      cwd: project.dir,
      env: { HOME: project.home },
    });
    expect(report.code, report.stderr).toBe(0);
    const lines = report.stdout.trim().split("\n");
    expect(lines[0]).toBe(`sweep ${sweepId}: 6 runs, sorted by val_loss (lower is better)`);
    // Best first: lr=3 bs=20 reaches 1/(3·20·3); the failed runs stop after epoch 1 (1/20, 1/10).
    const rows = lines.slice(2).map((line) => line.trim().split(/\s+/).slice(0, 3).join(" "));
    expect(rows).toEqual([
      "3 20 succeeded",
      "3 10 succeeded",
      "1 20 succeeded",
      "1 10 succeeded",
      "bad 20 failed",
      "bad 10 failed",
    ]);
    // Nothing of a sweep run is left running on the hosts.
    for (const host of hosts)
      expect(processesInHost(host).filter((p) => p.cmdline.includes("train.sh"))).toEqual([]);
  });
});

describeWithHosts(2, "a sweep from offload.yaml's sweep block", (bed) => {
  const hosts = bed.hosts.slice(2, 4);

  it("takes the grid, hosts and command from the block; a --param replaces its parameter", async () => {
    project = await makeProject();
    await project.write("train.sh", TRAIN);
    await project.write(
      "offload.yaml",
      [
        "sweep:",
        "  params:",
        "    lr: [1, 3]",
        "    bs: 10",
        `  hosts: [${hosts.join(", ")}]`,
        "  command: sh train.sh {lr} {bs}",
        "",
      ].join("\n"),
    );
    const base = ["sweep", "--ssh-config", bed.sshConfig, "--remote-dir", `block-${process.pid}`];
    const env = { HOME: project.home };
    const fromFile = await runCli(base, { cwd: project.dir, env });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stderr).toContain(`sweep of 2 runs over ${hosts.join(", ")}`);
    const first = await project.runIds();
    const records = await Promise.all(first.map((id) => project?.record(id)));
    expect(records.map((r) => `${r?.tags?.lr} ${r?.tags?.bs} ${r?.status}`).sort()).toEqual([
      "1 10 succeeded",
      "3 10 succeeded",
    ]);
    for (const record of records)
      expect((await project.localLog(record?.id ?? "")).toString()).toContain(
        `training lr=${record?.tags?.lr} bs=10 on `,
      );

    // --param bs replaces the block's bs; lr still comes from the block; --host picks one host.
    const flagged = await runCli([...base, "--host", hosts[0] ?? "", "--param", "bs=20"], {
      cwd: project.dir,
      env,
    });
    expect(flagged.code, flagged.stderr).toBe(0);
    const added = (await project.runIds()).filter((id) => !first.includes(id));
    const more = await Promise.all(added.map((id) => project?.record(id)));
    expect(more.map((r) => `${r?.tags?.lr} ${r?.tags?.bs} ${r?.target.label}`).sort()).toEqual([
      `1 20 ${hosts[0]}`,
      `3 20 ${hosts[0]}`,
    ]);
  });
});
