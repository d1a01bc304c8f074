// The data an HTML report carries (and exposes as `window.offloadReport`): the runs' summaries, and one
// chart a metric with one series a run, aligned on a shared x axis as uPlot wants it.
import type { XKind } from "./metrics.js";
import type { Goal, MetricSummary, RunSummary } from "./summary.js";

/** A run's summary as the page carries it: each metric without its series (those are the charts). */
export interface ReportRun extends Omit<RunSummary, "metrics"> {
  /** NaN becomes null in JSON; a reader sees null for "no finite value". */
  metrics: Omit<MetricSummary, "series">[];
}

export interface ReportChart {
  name: string;
  goal: Goal;
  xKind: XKind;
  /** Sorted, shared by every series. */
  x: number[];
  /** One a run that has this metric; null where that run has no point at that x. */
  series: { run: string; y: (number | null)[] }[];
}

/** A run's host over the run's seconds: CPU, memory and GPU percents (report/machine.ts). */
export interface ReportMachineChart {
  run: string;
  x: number[];
  series: { label: string; y: (number | null)[] }[];
}

export interface ReportData {
  title: string;
  generatedAt: string;
  runs: ReportRun[];
  charts: ReportChart[];
  machine: ReportMachineChart[];
}

export function buildReportData(runs: readonly RunSummary[], generatedAt: string): ReportData {
  return {
    title:
      runs.length === 1
        ? `offload run ${runs[0]?.id ?? ""}`
        : `offload: ${runs.length} runs compared`,
    generatedAt,
    runs: runs.map(({ machine: _machine, ...run }) => ({
      id: run.id,
      status: run.status,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      target: run.target,
      command: run.command,
      startedAt: run.startedAt,
      metrics: run.metrics.map(({ name, goal, final, best, count }) => ({
        name,
        goal,
        final,
        best,
        count,
      })),
    })),
    charts: buildCharts(runs),
    machine: runs.flatMap((run) =>
      run.machine
        ? [
            {
              run: run.id,
              x: run.machine.x,
              series: run.machine.series.map(({ label, y }) => ({ label, y })),
            },
          ]
        : [],
    ),
  };
}

function buildCharts(runs: readonly RunSummary[]): ReportChart[] {
  const names = [...new Set(runs.flatMap((run) => run.metrics.map((m) => m.name)))];
  return names.map((name) => {
    const present = runs.flatMap((run) => {
      const metric = run.metrics.find((m) => m.name === name);
      return metric ? [{ run: run.id, goal: metric.goal, series: metric.series }] : [];
    });
    const kinds = new Set(present.map((p) => p.series.xKind));
    // Runs that disagree on the axis (one reports steps, one epochs) line up by report order.
    const xKind: XKind = kinds.size === 1 ? (present[0]?.series.xKind ?? "index") : "index";
    const columns = present.map((p) => ({
      run: p.run,
      x: xKind === p.series.xKind ? p.series.x : p.series.y.map((_, i) => i + 1),
      y: p.series.y,
    }));
    const x = [...new Set(columns.flatMap((c) => c.x))].sort((a, b) => a - b);
    return {
      name,
      goal: present[0]?.goal ?? "max",
      xKind,
      x,
      series: columns.map((c) => {
        const at = new Map(c.x.map((value, i) => [value, c.y[i] ?? Number.NaN]));
        return {
          run: c.run,
          y: x.map((value) => {
            const y = at.get(value);
            return y === undefined || !Number.isFinite(y) ? null : y;
          }),
        };
      }),
    };
  });
}
