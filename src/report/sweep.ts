// The table `offload report SWEEP` prints: one row a run of the sweep, its parameters beside the final
// and best value of the main metric, best first; a curve of that metric on each row.
import { formatNumber } from "./format.js";
import { drawSparkline } from "./sparkline.js";
import { pickMainMetric, type RunSummary } from "./summary.js";
import { describeOutcome, formatTable, hintNoMetrics } from "./text.js";

export interface SweepRun {
  params: Record<string, string>;
  summary: RunSummary;
}

/** Best first by the main metric (the one most runs have; its goal decides); runs without it last. */
export function formatSweepReport(sweepId: string, runs: readonly SweepRun[]): string {
  const counts = new Map<string, number>();
  for (const run of runs) {
    const main = pickMainMetric(run.summary.metrics);
    if (main) counts.set(main.name, (counts.get(main.name) ?? 0) + 1);
  }
  const metric = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const names = [...new Set(runs.flatMap((run) => Object.keys(run.params)))];
  const rows = runs.map((run) => ({
    run,
    m: run.summary.metrics.find((x) => x.name === metric),
  }));
  const goal = rows.find((row) => row.m)?.m?.goal ?? "min";
  const score = (best: number | undefined) =>
    best === undefined || !Number.isFinite(best)
      ? Number.POSITIVE_INFINITY
      : goal === "min"
        ? best
        : -best;
  rows.sort((a, b) => score(a.m?.best) - score(b.m?.best));
  const heading = `sweep ${sweepId}: ${runs.length} runs${metric ? `, sorted by ${metric} (${goal === "min" ? "lower" : "higher"} is better)` : `, no metrics recorded${hintNoMetrics("RUN")}`}`;
  const table = formatTable(
    [...names.map((n) => n.toUpperCase()), "STATUS", "FINAL", "BEST", "RUN", "CURVE"],
    rows.map(({ run, m }) => [
      ...names.map((name) => run.params[name] ?? ""),
      describeOutcome(run.summary),
      m ? formatNumber(m.final) : "-",
      m ? formatNumber(m.best) : "-",
      run.summary.id,
      m ? drawSparkline(m.series.y, 24) : "",
    ]),
    "  ",
  );
  return `${heading}\n${table}`;
}
