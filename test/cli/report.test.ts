// `offload report` in a project whose run store holds two finished runs (written as a run leaves them).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLines, runCli } from "../support/cli.js";
import { makeRecord } from "../support/record.js";

let dir = "";
const IDS = ["20240101-120000-aaaa", "20240102-120000-bbbb"];

async function writeRun(id: string, losses: number[], exitCode: number) {
  const runDir = join(dir, ".offload/runs", id);
  await mkdir(runDir, { recursive: true });
  const record = makeRecord({
    id,
    command: ["python3", "train.py"],
    target: { label: "gpu", kind: "ssh", remoteDir: "/w" },
    status: exitCode === 0 ? "succeeded" : "failed",
    exitCode,
    startedAt: "2024-01-01T12:00:00.000Z",
    finishedAt: "2024-01-01T12:02:05.000Z",
    phases: { total: 125_000 },
  });
  await writeFile(join(runDir, "run.json"), JSON.stringify(record));
  const lines = losses.flatMap((loss, i) => [
    { time: "", name: "loss", value: loss, step: (i + 1) * 100, source: "tqdm" },
    { time: "", name: "acc", value: 1 - loss / 4, step: (i + 1) * 100, source: "tqdm" },
  ]);
  await writeFile(
    join(runDir, "metrics.jsonl"),
    lines.map((l) => `${JSON.stringify(l)}\n`).join(""),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "offload-report-"));
  await writeFile(join(dir, "offload.yaml"), "host: local\n");
  await writeRun(IDS[0] ?? "", [2, 1, 0.5, 0.7], 0);
  await writeRun(IDS[1] ?? "", [3, 2.5], 1);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("offload report", () => {
  it("summarizes the latest run by default: final, best, duration, exit and a curve", async () => {
    const result = await runCli(["report"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `run ${IDS[1]}  failed (exit 1), 2m05s  on gpu: python3 train.py`,
    );
    expect(result.stdout).not.toContain(IDS[0]);
    expect(result.stdout).toMatch(/loss\s+2\.5\s+2\.5 \(min\)\s+2\s+█▁/);
  });

  it("reports several runs, picking the best of each metric by its name", async () => {
    const result = await runCli(["report", "aaaa", "bbbb", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const runs = jsonLines(result.stdout);
    expect(runs.map((r: { id: string }) => r.id)).toEqual(IDS);
    expect(runs[0].metrics).toEqual([
      { name: "loss", goal: "min", final: 0.7, best: 0.5, count: 4 },
      { name: "acc", goal: "max", final: 0.825, best: 0.875, count: 4 },
    ]);
  });

  it("writes a self-contained HTML comparison and prints its path", async () => {
    const result = await runCli(["report", "aaaa", "bbbb", "--html"], { cwd: dir });
    expect(result.code).toBe(0);
    const path = join(dir, ".offload", `report-${IDS.join("_")}.html`);
    expect(result.stdout.trim()).toBe(path);
    const html = await readFile(path, "utf8");
    // uPlot inlined: no script or stylesheet comes from elsewhere.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
    expect(html).toContain("uPlot");
    const data = JSON.parse(/window\.offloadReport = (.*);<\/script>/.exec(html)?.[1] ?? "null");
    expect(data.charts[0]).toMatchObject({
      name: "loss",
      xKind: "step",
      x: [100, 200, 300, 400],
      series: [
        { run: IDS[0], y: [2, 1, 0.5, 0.7] },
        { run: IDS[1], y: [3, 2.5, null, null] },
      ],
    });
  });

  it("reads `--html RUN` as the run, and `--html FILE.html` as the file", async () => {
    const before = await readdir(dir);
    const result = await runCli(["report", "--html", "aaaa"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const path = join(dir, ".offload", "runs", IDS[0] ?? "", "report.html");
    expect(result.stdout.trim()).toBe(path);
    expect(await readFile(path, "utf8")).toContain(IDS[0]);
    // No file named after the run in the working dir.
    expect(await readdir(dir)).toEqual(before);
    const named = await runCli(["report", "--html", "mine.html", "aaaa"], { cwd: dir });
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout.trim()).toBe("mine.html");
    expect(await readFile(join(dir, "mine.html"), "utf8")).toContain(IDS[0]);
    await rm(join(dir, "mine.html"));
  });

  it("says so when a run id matches nothing", async () => {
    const result = await runCli(["report", "zzzz"], { cwd: dir });
    expect(result.code).toBe(200);
    expect(result.stderr).toContain("E_RUN_NOT_FOUND");
  });
});

describe("offload report with progress.patterns in offload.yaml", () => {
  it("adds what the patterns find in a run's log, for a run recorded before they were written", async () => {
    const id = IDS[0] ?? "";
    const log = "epoch 1 throughput 700.5 img/s\nepoch 2 throughput 812.25 img/s\n";
    await writeFile(join(dir, ".offload/runs", id, "output.log"), log);
    const plain = jsonLines((await runCli(["report", "aaaa", "--json"], { cwd: dir })).stdout);
    expect(plain[0].metrics.map((m: { name: string }) => m.name)).toEqual(["loss", "acc"]);

    await writeFile(
      join(dir, "offload.yaml"),
      "host: local\nprogress:\n  patterns:\n    - 'throughput (?<throughput>[0-9.]+) img/s'\n",
    );
    try {
      const result = await runCli(["report", "aaaa", "--json"], { cwd: dir });
      expect(result.code).toBe(0);
      expect(jsonLines(result.stdout)[0].metrics).toContainEqual({
        name: "throughput",
        goal: "max",
        final: 812.25,
        best: 812.25,
        count: 2,
      });
    } finally {
      await writeFile(join(dir, "offload.yaml"), "host: local\n");
    }
  });
});
