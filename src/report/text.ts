// The report `offload report` prints: a heading a run, then a table of its metrics with a curve each.
import { formatDuration, formatNumber } from "./format.js";
import type { MachineSummary } from "./machine.js";
import { drawSparkline } from "./sparkline.js";
import type { RunSummary } from "./summary.js";

export interface TextReportOptions {
  /** Cells of the curve column. */
  curveWidth?: number;
}

export function describeOutcome(run: RunSummary): string {
  const exit = run.exitCode === null ? "" : ` (exit ${run.exitCode})`;
  const took = run.durationMs === null ? "" : `, ${formatDuration(run.durationMs)}`;
  const cost = run.costUsd === undefined ? "" : `, machine $${run.costUsd.toFixed(2)}`;
  const attempt = run.attempt === undefined ? "" : `, attempt ${run.attempt}`;
  return `${run.status}${exit}${took}${cost}${attempt}`;
}

/** What a user can do about an empty table: see what offload reads from the run's log, line by line. */
export function hintNoMetrics(runId: string): string {
  return ` (\`offload events .offload/runs/${runId}/output.log\` shows what offload reads from the log; README, "Training progress read from the log", lists the formats it knows)`;
}

export function formatRunReport(run: RunSummary, options: TextReportOptions = {}): string {
  const heading = `run ${run.id}  ${describeOutcome(run)}  on ${run.target}: ${run.command}`;
  const machine = run.machine ? `\n${formatMachine(run.machine, options.curveWidth ?? 24)}` : "";
  return `${formatMetrics(run, heading, options)}${machine}`;
}

function formatMetrics(run: RunSummary, heading: string, options: TextReportOptions): string {
  if (run.metrics.length === 0) return `${heading}\n  no metrics recorded${hintNoMetrics(run.id)}`;
  const rows = run.metrics.map((m) => [
    m.name,
    formatNumber(m.final),
    `${formatNumber(m.best)} (${m.goal})`,
    String(m.count),
    drawSparkline(m.series.y, options.curveWidth ?? 24),
  ]);
  return `${heading}\n${formatTable(["METRIC", "FINAL", "BEST", "POINTS", "CURVE"], rows, "  ")}`;
}

/** The host's load while the job ran: mean and peak of each curve, and the memory at its peak. */
function formatMachine(machine: MachineSummary, curveWidth: number): string {
  const percent = (value: number | null) => (value === null ? "-" : `${formatNumber(value)}%`);
  const rows = machine.series.map((s) => [
    s.label.replace(/ %$/, ""),
    percent(s.mean),
    percent(s.max),
    s.mean === null
      ? whyNoValue(s.label, machine.samples)
      : drawSparkline(
          s.y.map((v) => v ?? Number.NaN),
          curveWidth,
        ),
  ]);
  const notes = [machine.samples === 1 ? "1 sample" : `${machine.samples} samples`];
  if (machine.memoryPeakBytes !== undefined && machine.memoryTotalBytes !== undefined)
    notes.push(`memory peak ${gib(machine.memoryPeakBytes)} of ${gib(machine.memoryTotalBytes)}`);
  for (const gpu of machine.gpus)
    if (gpu.memoryPeakMiB !== undefined && gpu.memoryTotalMiB !== undefined)
      notes.push(
        `gpu${gpu.index} memory peak ${gib(gpu.memoryPeakMiB * MIB)} of ${gib(gpu.memoryTotalMiB * MIB)}`,
      );
  const table = formatTable(["MACHINE", "MEAN", "PEAK", "CURVE"], rows, "  ");
  return `${table}\n  ${notes.join(", ")}`;
}

/** What a row of dashes stands for, said where the curve would be. */
function whyNoValue(label: string, samples: number): string {
  // A CPU % is the change of the host's counters between two samples: a run that ended within one
  // sample interval has a single reading, and its since-boot average would say nothing of the job.
  if (label === "cpu %" && samples < 2) return "needs 2 samples (the job ended within one)";
  return "not reported by the host";
}

const MIB = 1024 * 1024;

function gib(bytes: number): string {
  return `${(bytes / (1024 * MIB)).toFixed(1)} GiB`;
}

/** Columns padded to their widest cell; the last column is left as it is. */
export function formatTable(header: string[], rows: string[][], indent = ""): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const format = (row: string[]) =>
    indent +
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ");
  return [format(header), ...rows.map(format)].join("\n");
}

export function formatReport(runs: readonly RunSummary[], options: TextReportOptions = {}): string {
  return runs.map((run) => formatRunReport(run, options)).join("\n\n");
}
