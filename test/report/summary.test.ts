// Summaries, best values, number formats and sparklines, from plain inputs.
import { describe, expect, it } from "vitest";
import { parseSamples } from "../../src/remote/samples.js";
import { formatClock, formatNumber } from "../../src/report/format.js";
import { chooseXKind, groupSeries, parseMetricsJsonl } from "../../src/report/metrics.js";
import { drawSparkline, resample } from "../../src/report/sparkline.js";
import { goalOf, pickBest, summarizeRun } from "../../src/report/summary.js";
import { formatRunReport } from "../../src/report/text.js";
import type { RunRecord } from "../../src/runs/record.js";
import { makeRecord } from "../support/record.js";

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return makeRecord({
    id: "20240101-120000-abcd",
    command: ["python3", "train.py"],
    target: { label: "gpu", kind: "ssh", remoteDir: "/work" },
    startedAt: "2024-01-01T12:00:00.000Z",
    finishedAt: "2024-01-01T12:01:30.000Z",
    ...overrides,
  });
}

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join("\n");

describe("parseMetricsJsonl", () => {
  it("reads points, turns null back into NaN and skips lines it cannot read", () => {
    const text = `${jsonl([
      { time: "t", name: "loss", value: 0.5, step: 1, source: "tqdm" },
      { time: "t", name: "loss", value: null, step: 2, source: "tqdm" },
      { name: 3 },
    ])}\nnot json\n{"time":"t","name":"loss","val`;
    const points = parseMetricsJsonl(text);
    expect(points).toHaveLength(2);
    expect(points[0]).toEqual({ time: "t", name: "loss", value: 0.5, step: 1, source: "tqdm" });
    expect(points[1]?.value).toBeNaN();
  });
});

describe("series", () => {
  const point = (name: string, value: number, at: { step?: number; epoch?: number }) => ({
    time: "",
    name,
    value,
    source: "x",
    ...at,
  });

  it("plots against the step when it grows, else the epoch, else the order of reports", () => {
    expect(chooseXKind([point("a", 1, { step: 5 }), point("a", 1, { step: 10 })])).toBe("step");
    // A Lightning bar's step restarts each epoch.
    expect(
      chooseXKind([point("a", 1, { step: 9, epoch: 0 }), point("a", 1, { step: 3, epoch: 1 })]),
    ).toBe("epoch");
    expect(chooseXKind([point("a", 1, { epoch: 1 }), point("a", 1, { epoch: 1 })])).toBe("index");
  });

  it("groups by name in order of first appearance", () => {
    const series = groupSeries([
      point("loss", 3, { epoch: 1 }),
      point("acc", 0.5, { epoch: 1 }),
      point("loss", 2, { epoch: 2 }),
    ]);
    expect(series.map((s) => s.name)).toEqual(["loss", "acc"]);
    expect(series[0]).toMatchObject({ xKind: "epoch", x: [1, 2], y: [3, 2] });
    expect(series[1]).toMatchObject({ xKind: "epoch", x: [1], y: [0.5] });
  });
});

describe("best values", () => {
  it("minimizes losses, errors and perplexity, maximizes the rest", () => {
    for (const name of ["loss", "val_loss", "eval/error", "perplexity", "top1_err"])
      expect(goalOf(name)).toBe("min");
    for (const name of ["accuracy", "mAP50", "f1", "reward"]) expect(goalOf(name)).toBe("max");
  });

  it("ignores non-finite values", () => {
    expect(pickBest([3, Number.NaN, 1, 2], "min")).toBe(1);
    expect(pickBest([0.1, Number.POSITIVE_INFINITY, 0.9, 0.5], "max")).toBe(0.9);
    expect(pickBest([Number.NaN], "max")).toBeNaN();
  });

  it("summarizes a run: final and best a metric, duration and outcome", () => {
    const points = parseMetricsJsonl(
      jsonl([
        { time: "", name: "loss", value: 1.0, epoch: 1, source: "epoch" },
        { time: "", name: "acc", value: 0.6, epoch: 1, source: "epoch" },
        { time: "", name: "loss", value: 0.4, epoch: 2, source: "epoch" },
        { time: "", name: "acc", value: 0.9, epoch: 2, source: "epoch" },
        { time: "", name: "loss", value: 0.5, epoch: 3, source: "epoch" },
        { time: "", name: "acc", value: 0.8, epoch: 3, source: "epoch" },
      ]),
    );
    const summary = summarizeRun(record(), points);
    expect(summary.durationMs).toBe(90_000);
    expect(
      summary.metrics.map(({ name, final, best, goal, count }) => ({
        name,
        final,
        best,
        goal,
        count,
      })),
    ).toEqual([
      { name: "loss", final: 0.5, best: 0.4, goal: "min", count: 3 },
      { name: "acc", final: 0.8, best: 0.9, goal: "max", count: 3 },
    ]);
    const text = formatRunReport(summary, { curveWidth: 10 });
    expect(text).toContain("succeeded (exit 0), 1m30s");
    expect(text).toMatch(/loss\s+0\.5\s+0\.4 \(min\)\s+3\s+█▁▂/);
    expect(text).toMatch(/acc\s+0\.8\s+0\.9 \(max\)\s+3\s+▁█▆/);
  });

  it("says when a run recorded no metrics, and has no duration while running", () => {
    const running = record({ status: "running", exitCode: null });
    delete running.finishedAt;
    const summary = summarizeRun(running, []);
    expect(summary.durationMs).toBeNull();
    expect(formatRunReport(summary)).toContain(
      `no metrics recorded (\`offload events .offload/runs/${summary.id}/output.log\` shows what offload reads`,
    );
  });
});

describe("sparklines", () => {
  it("maps the lowest value to the lowest block and the highest to the full one", () => {
    expect(drawSparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe("▁▂▃▄▅▆▇█");
    expect(drawSparkline([5, 5, 5], 8)).toBe("▄▄▄");
    expect(drawSparkline([1, Number.NaN, 2], 8)).toBe("▁ █");
  });

  it("squeezes a long series into the width by averaging slices", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    expect(drawSparkline(values, 20)).toHaveLength(20);
    expect(resample([1, 3, 5, 7], 2)).toEqual([2, 6]);
  });
});

describe("formats", () => {
  it("keeps numbers short", () => {
    expect(formatNumber(0.123456)).toBe("0.1235");
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(0.00001234)).toBe("1.23e-5");
    expect(formatNumber(Number.NaN)).toBe("nan");
    expect(formatClock(62)).toBe("1:02");
    expect(formatClock(3723)).toBe("1:02:03");
  });
});

describe("the machine table", () => {
  /** Lines as the sampler wrote them on a 2-core Debian machine, five seconds apart. */
  const LINES = [
    "1796166635384 cpu 2888647 2470 707268 1089966 53459 0 11176 11738 mem 24684084 22271660 disk 264212084 30572920 75817992 gpu ",
    "1796166640420 cpu 2889495 2470 707424 1089967 53459 0 11178 11739 mem 24684084 22225476 disk 264212084 30573244 75817668 gpu ",
  ];
  const machineRows = (lines: string[]) => {
    const samples = parseSamples(`${lines.join("\n")}\n`);
    const text = formatRunReport(summarizeRun(record(), [], samples));
    return text.slice(text.indexOf("MACHINE")).split("\n");
  };

  it("says why a run with one sample has no CPU %, and shows its one memory reading", () => {
    const rows = machineRows(LINES.slice(0, 1));
    const cpu = rows.find((row) => row.trimStart().startsWith("cpu")) ?? "";
    expect(cpu).toMatch(/-\s+-\s+needs 2 samples/);
    const memory = rows.find((row) => row.trimStart().startsWith("memory")) ?? "";
    expect(memory).toMatch(/9\.8%\s+9\.8%/);
    expect(rows.at(-1)).toMatch(/^\s+1 sample, memory peak/);
  });

  it("shows the CPU % from two samples, with no reason in its place", () => {
    const rows = machineRows(LINES);
    const cpu = rows.find((row) => row.trimStart().startsWith("cpu")) ?? "";
    expect(cpu).toMatch(/^\s*cpu\s+[0-9.]+%\s+[0-9.]+%/);
    expect(cpu).not.toContain("needs");
    expect(rows.at(-1)).toMatch(/^\s+2 samples/);
  });
});
