// The grid points of a sweep with a plan (runs/sweep-plan.ts), for `attach SWEEP`: each point's
// recorded run, or none yet (queued) while its `offload sweep` runs, or none ever (not started) once
// that offload is gone.
import type { RunRecord } from "../runs/record.js";
import type { SweepPlan } from "../runs/sweep-plan.js";
import { quoteShell } from "../shell/quote.js";
import { describeOrigin } from "./lock-origin.js";
import { fillCommand, type SweepItem, sweepIndexOf } from "./sweep.js";
import { SWEEP_TAG } from "./sweep-runs.js";

/** A run as a row, numbered by its grid point as `offload sweep` numbered it (`fallback` if unknown). */
export function toSweepItem(record: RunRecord, fallback: number): SweepItem {
  const { [SWEEP_TAG]: sweepId, ...params } = record.tags ?? {};
  const index = (sweepId === undefined ? undefined : sweepIndexOf(record, sweepId)) ?? fallback;
  return { index, params, state: record.status, host: record.target.label, record };
}

/**
 * Whether the plan's `offload sweep` still runs: proven by its pid and start time on this machine's
 * current boot; `unknown` for one started on another machine, or where this one cannot tell.
 */
export function describeSweepProcess(plan: SweepPlan): "running" | "ended" | "unknown" {
  return plan.origin === undefined ? "unknown" : describeOrigin(plan.origin);
}

/** Every point of the plan as a row: the run recorded for it, else queued; a run of no point after. */
export function placeOnGrid(plan: SweepPlan, items: readonly SweepItem[]): SweepItem[] {
  const byIndex = new Map(items.map((item) => [item.index, item]));
  const points = plan.grid.map(
    (params, index): SweepItem => byIndex.get(index) ?? { index, params, state: "queued" },
  );
  return [...points, ...items.filter((item) => item.index >= plan.grid.length)];
}

/** A point whose run has no record. */
export function isUnstarted(item: SweepItem): boolean {
  return item.record === undefined && (item.state === "queued" || item.state === "not started");
}

/** `offload run -- …` for a point: its command filled with its values, as a shell line. */
export function describeRunOf(plan: SweepPlan, item: SweepItem): string {
  const command = fillCommand(plan.command, item.params);
  return `offload run -- ${command.map((word) => quoteShell(word)).join(" ")}`;
}
