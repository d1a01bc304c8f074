import { describe, expect, it } from "vitest";
import { assignAttempts, joinAttempts } from "../../src/report/attempts.js";
import type { MetricPoint } from "../../src/report/metrics.js";
import { summarizeRun } from "../../src/report/summary.js";
import { formatRunReport } from "../../src/report/text.js";
import type { RunRecord } from "../../src/runs/record.js";

const loss = (epoch: number, value: number, time: string): MetricPoint => ({
  time,
  name: "loss",
  value,
  epoch,
  source: "epoch",
});

// Attempt 1 printed epochs 1-3 and was lost after its checkpoint of epoch 2; attempt 2 resumed at 3.
const points = [
  loss(1, 9, "2026-12-01T10:00:01.000Z"),
  loss(2, 8, "2026-12-01T10:00:02.000Z"),
  loss(3, 7.5, "2026-12-01T10:00:03.000Z"),
  loss(3, 7, "2026-12-01T10:01:03.000Z"),
  loss(4, 6, "2026-12-01T10:01:04.000Z"),
];
const record = {
  id: "20261201-100000-abcd",
  status: "succeeded",
  exitCode: 0,
  target: { label: "h100", kind: "ssh", remoteDir: "/r" },
  command: ["python", "train.py"],
  startedAt: "2026-12-01T10:00:00.000Z",
  phases: {},
  attempt: 2,
  attempts: [
    {
      attempt: 1,
      status: "lost",
      exitCode: null,
      finishedAt: "2026-12-01T10:00:30.000Z",
      log: "attempts/1.log",
    },
  ],
} as unknown as RunRecord;

describe("metrics across attempts", () => {
  it("gives each point the attempt under way when it was written", () => {
    expect(assignAttempts(points, record).map((p) => p.attempt)).toEqual([1, 1, 1, 2, 2]);
  });

  it("leaves a run of one attempt as it is", () => {
    expect(assignAttempts(points, {})).toEqual(points);
  });

  it("joins the attempts into one curve: the steps a later attempt redid are its own", () => {
    const joined = joinAttempts(assignAttempts(points, record));
    expect(joined.map((p) => [p.epoch, p.value, p.attempt])).toEqual([
      [1, 9, 1],
      [2, 8, 1],
      [3, 7, 2],
      [4, 6, 2],
    ]);
  });

  it("report says the attempt and plots the joined curve", () => {
    const text = formatRunReport(summarizeRun(record, points));
    expect(text).toContain("succeeded (exit 0), attempt 2  on h100");
    expect(text).toMatch(/loss\s+6\s+6 \(min\)\s+4 /);
  });
});
