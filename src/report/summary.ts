// What a run amounts to: its status and duration, and for each metric the final and the best value.
import { jobDurationMs, type RunRecord } from "../runs/record.js";
import { assignAttempts, joinAttempts } from "./attempts.js";
import { type MachineSampleInput, type MachineSummary, summarizeMachine } from "./machine.js";
import { groupSeries, type MetricPoint, type MetricSeries } from "./metrics.js";

export type Goal = "min" | "max";

export interface MetricSummary {
  name: string;
  goal: Goal;
  /** The last value printed; NaN when the log printed nan last. */
  final: number;
  /** The best finite value, or NaN when there is none. */
  best: number;
  count: number;
  series: MetricSeries;
}

export interface RunSummary {
  id: string;
  status: string;
  exitCode: number | null;
  /** Null while a run has no end and no total yet. */
  durationMs: number | null;
  target: string;
  command: string;
  startedAt: string;
  metrics: MetricSummary[];
  /** USD the cloud machine made for the run cost (`cloud:` targets with a known price). */
  costUsd?: number;
  /** What the host did while the job ran (machine.txt), where it was sampled. */
  machine?: MachineSummary;
  /** The attempt the run ended on, when it was retried. */
  attempt?: number;
}

const LOWER_IS_BETTER = /loss|err|perplexity|ppl|mse|mae/i;

/** Losses, errors and perplexities go down as training works; accuracies, scores and the rest go up. */
export function goalOf(name: string): Goal {
  return LOWER_IS_BETTER.test(name) ? "min" : "max";
}

export function pickBest(values: readonly number[], goal: Goal): number {
  let best = Number.NaN;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    if (Number.isNaN(best) || (goal === "min" ? value < best : value > best)) best = value;
  }
  return best;
}

export function summarizeSeries(series: MetricSeries): MetricSummary {
  const goal = goalOf(series.name);
  return {
    name: series.name,
    goal,
    final: series.y.at(-1) ?? Number.NaN,
    best: pickBest(series.y, goal),
    count: series.y.length,
    series,
  };
}

/** The metric a run is judged by: a validation one where there is one, else the first it printed. */
export function pickMainMetric(metrics: readonly MetricSummary[]): MetricSummary | undefined {
  return metrics.find((m) => /val/i.test(m.name)) ?? metrics[0];
}

/** The job's time by the host's stamps; older records fall back to offload's own timings. */
export function runDuration(record: RunRecord): number | null {
  const job = jobDurationMs(record);
  if (job !== undefined) return job;
  if (record.phases.total !== undefined) return record.phases.total;
  if (record.finishedAt === undefined) return null;
  return Date.parse(record.finishedAt) - Date.parse(record.startedAt);
}

export function summarizeRun(
  record: RunRecord,
  points: readonly MetricPoint[],
  samples: readonly MachineSampleInput[] = [],
): RunSummary {
  const machine = summarizeMachine(samples);
  return {
    id: record.id,
    status: record.status,
    exitCode: record.exitCode,
    durationMs: runDuration(record),
    target: record.target.label,
    command: record.command.join(" "),
    startedAt: record.startedAt,
    metrics: groupSeries(joinAttempts(assignAttempts(points, record))).map(summarizeSeries),
    ...(record.machine?.costUsd === undefined ? {} : { costUsd: record.machine.costUsd }),
    ...(machine === undefined ? {} : { machine }),
    ...((record.attempt ?? 1) > 1 ? { attempt: record.attempt } : {}),
  };
}
