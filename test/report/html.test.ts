// The HTML report's data and markup, without a browser: alignment of several runs, safe embedding.
import { describe, expect, it } from "vitest";
import { renderReportHtml } from "../../src/report/html.js";
import { parseMetricsJsonl } from "../../src/report/metrics.js";
import { buildReportData } from "../../src/report/report-data.js";
import { summarizeRun } from "../../src/report/summary.js";
import { makeRecord } from "../support/record.js";

function run(id: string, command: string[], rows: object[]) {
  const record = makeRecord({
    id,
    command,
    target: { label: "local", kind: "local", remoteDir: "/w" },
    startedAt: "2024-01-01T00:00:00.000Z",
    phases: { total: 1000 },
  });
  return summarizeRun(record, parseMetricsJsonl(rows.map((r) => JSON.stringify(r)).join("\n")));
}

describe("report data", () => {
  it("puts every run of a metric on one shared x axis, with gaps where a run has no point", () => {
    const a = run(
      "a",
      ["x"],
      [
        { name: "loss", value: 3, step: 10 },
        { name: "loss", value: 2, step: 20 },
        { name: "acc", value: 0.5, step: 20 },
      ],
    );
    const b = run(
      "b",
      ["x"],
      [
        { name: "loss", value: 4, step: 15 },
        { name: "loss", value: null, step: 20 },
      ],
    );
    const data = buildReportData([a, b], "now");
    expect(data.charts.map((c) => c.name)).toEqual(["loss", "acc"]);
    expect(data.charts[0]).toEqual({
      name: "loss",
      goal: "min",
      xKind: "step",
      x: [10, 15, 20],
      series: [
        { run: "a", y: [3, null, 2] },
        { run: "b", y: [null, 4, null] },
      ],
    });
    expect(data.charts[1]?.series).toEqual([{ run: "a", y: [0.5] }]);
  });

  it("embeds data that cannot close its script element", () => {
    const evil = run(
      "r1",
      ["echo", "</script><script>alert(1)</script>"],
      [{ name: "loss", value: 1 }],
    );
    const html = renderReportHtml(buildReportData([evil], "now"), [evil], {
      js: "window.uPlot = function () {};",
      css: "",
    });
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain("&lt;/script&gt;");
    expect(html).toContain("\\u003c/script>");
  });
});
