// progress.patterns from offload.yaml in a real run over ssh: the metric reaches the live events and
// the run's metrics.jsonl, and `offload report` shows it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { jsonLines, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describeWithHosts(1, "progress.patterns in a run", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";

  it("reads a custom format taught once in offload.yaml, live and into the report", async () => {
    project = await makeProject();
    await project.write(
      "offload.yaml",
      "progress:\n  patterns:\n    - 'images/sec: (?<images_per_sec>[0-9.]+)'\n",
    );
    await project.write(
      "job.sh",
      "echo 'iter 10 images/sec: 812.5'\necho 'iter 20 images/sec: 790.25'\n",
    );
    const args = ["run", "--json", "--ssh-config", bed.sshConfig];
    const result = await runCli(
      [...args, "--host", `${host}/offload-e2e-patterns-${process.pid}`, "--", "sh", "job.sh"],
      { cwd: project.dir },
    );
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; name?: string; value?: number });
    const metrics = events.filter((e) => e.type === "metric");
    expect(metrics.map(({ name, value }) => ({ name, value }))).toEqual([
      { name: "images_per_sec", value: 812.5 },
      { name: "images_per_sec", value: 790.25 },
    ]);
    const [id = ""] = await project.runIds();
    const jsonl = await readFile(join(project.dir, ".offload/runs", id, "metrics.jsonl"), "utf8");
    expect(jsonl.trim().split("\n")).toHaveLength(2);
    const report = await runCli(["report", "--json", id], { cwd: project.dir });
    expect(jsonLines(report.stdout)[0].metrics).toContainEqual(
      expect.objectContaining({ name: "images_per_sec", final: 790.25, count: 2 }),
    );
  });

  it("applies them to a run followed later with attach", async () => {
    project = await makeProject();
    await project.write(
      "offload.yaml",
      "progress:\n  patterns:\n    - 'images/sec: (?<images_per_sec>[0-9.]+)'\n",
    );
    await project.write("job.sh", "sleep 1\necho 'iter 10 images/sec: 812.5'\n");
    const target = [
      "--ssh-config",
      bed.sshConfig,
      "--host",
      `${host}/offload-e2e-pattach-${process.pid}`,
    ];
    const started = await runCli(["run", "--no-wait", ...target, "--", "sh", "job.sh"], {
      cwd: project.dir,
    });
    expect(started.code).toBe(0);
    const [id = ""] = await project.runIds();
    const attached = await runCli(["attach", id, "--json", "--ssh-config", bed.sshConfig], {
      cwd: project.dir,
    });
    expect(attached.code).toBe(0);
    expect(attached.stdout).toContain('"name":"images_per_sec","value":812.5');
    // Each line is one typed event: the attach itself is a fact with fields, not an English notice.
    const events: { type: string }[] = jsonLines(attached.stdout);
    expect(events.map((e) => e.type)).not.toContain("notice");
    expect(events.find((e) => e.type === "attached")).toMatchObject({
      runId: id,
      offset: expect.any(Number),
      stopping: false,
      message: expect.stringContaining(`attached to run ${id}`),
    });
    expect(events.at(-1)).toMatchObject({ type: "finished", runId: id, exitCode: 0 });
  });
});
