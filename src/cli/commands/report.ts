// `offload report`: a run's (or several runs') metrics as a table with curves, or a self-contained HTML
// page with one uPlot chart a metric.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseSamples } from "../../remote/samples.js";
import { renderReportHtml } from "../../report/html.js";
import type { MachineSummary } from "../../report/machine.js";
import { parseMetricsJsonl } from "../../report/metrics.js";
import { addPatternMetrics } from "../../report/pattern-metrics.js";
import { buildReportData } from "../../report/report-data.js";
import { type RunSummary, summarizeRun } from "../../report/summary.js";
import { formatSweepReport } from "../../report/sweep.js";
import { formatReport } from "../../report/text.js";
import type { RunRecord } from "../../runs/record.js";
import { openRunStore, type RunStore, writeFileAtomic } from "../../runs/store.js";
import { findSweepRuns, SWEEP_TAG } from "../../session/sweep-runs.js";
import type { Output } from "../render.js";
import { load } from "../settings.js";

export interface ReportFlags {
  /** true: the default path; a string: that file. */
  html?: string | boolean;
  json?: boolean;
  /** `progress.patterns` from offload.yaml: also read from each run's log, for runs made before them. */
  patterns?: readonly string[];
}

async function loadSummaries(
  store: RunStore,
  ids: readonly string[],
  patterns: readonly string[],
): Promise<RunSummary[]> {
  const resolved = ids.length === 0 ? [await store.resolveId(undefined)] : ids;
  const summaries: RunSummary[] = [];
  for (const partial of resolved) {
    const id = await store.resolveId(partial);
    const record = await store.load(id);
    const points = parseMetricsJsonl(await store.readMetrics(id));
    const log = patterns.length === 0 ? "" : await store.readLog(id);
    const samples = parseSamples(await store.readSamples(id));
    summaries.push(summarizeRun(record, addPatternMetrics(points, log, patterns), samples));
  }
  return summaries;
}

/** uPlot from our own node_modules, inlined so the page needs no network. */
export async function readChartAssets() {
  const require = createRequire(import.meta.url);
  const [js, css] = await Promise.all([
    readFile(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
    readFile(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
  ]);
  return { js, css };
}

export function defaultHtmlPath(store: RunStore, ids: readonly string[]): string {
  return ids.length === 1 && ids[0] !== undefined
    ? store.reportPath(ids[0])
    : join(store.root, "..", `report-${ids.join("_")}.html`);
}

export async function reportCommand(
  store: RunStore,
  ids: readonly string[],
  flags: ReportFlags,
  out: Output,
): Promise<number> {
  const runs = await loadSummaries(store, ids, flags.patterns ?? []);
  if (flags.html !== undefined && flags.html !== false) {
    const path =
      typeof flags.html === "string"
        ? flags.html
        : defaultHtmlPath(
            store,
            runs.map((r) => r.id),
          );
    const data = buildReportData(runs, new Date().toISOString());
    await writeFileAtomic(path, renderReportHtml(data, runs, await readChartAssets()));
    out.stdout.write(`${path}\n`);
    return 0;
  }
  if (flags.json) {
    const plain = runs.map((run) => ({
      ...run,
      metrics: run.metrics.map(({ series: _series, ...metric }) => metric),
      ...(run.machine ? { machine: withoutCurves(run.machine) } : {}),
    }));
    out.stdout.write(plain.map((run) => `${JSON.stringify(run)}\n`).join(""));
    return 0;
  }
  out.stdout.write(`${formatReport(runs)}\n`);
  return 0;
}

/** A machine summary for --json: means and peaks, not the curves. */
function withoutCurves({ x: _x, series, ...machine }: MachineSummary) {
  return { ...machine, series: series.map(({ y: _y, ...s }) => s) };
}

/**
 * `--html [file]` takes the next word when it can: in `report --html RUN` that is the run, and the page
 * was written to a file named like the run, for the latest run. A file is one that ends in `.html`
 * (or `.htm`); any other word is a run.
 */
export function separateHtmlFile(
  runs: readonly string[],
  html: ReportFlags["html"],
): { runs: string[]; html: ReportFlags["html"] } {
  if (typeof html !== "string" || /\.html?$/i.test(html)) return { runs: [...runs], html };
  return { runs: [html, ...runs], html: true };
}

export async function reportAction(
  out: Output,
  given: string[],
  givenFlags: ReportFlags,
): Promise<number> {
  const separated = separateHtmlFile(given, givenFlags.html);
  const runs = separated.runs;
  const { html: _html, ...rest } = givenFlags;
  const flags: ReportFlags =
    separated.html === undefined ? rest : { ...rest, html: separated.html };
  const { projectDir, settings } = await load({});
  const patterns = settings.progress.patterns;
  const store = openRunStore(projectDir);
  const sweep = runs.length === 1 ? await findSweep(store, runs[0] ?? "") : undefined;
  if (sweep !== undefined && !flags.json && (flags.html === undefined || flags.html === false)) {
    const summaries = await loadSummaries(
      store,
      sweep.map((r) => r.id),
      patterns,
    );
    const table = summaries.map((summary, i) => ({ summary, params: paramsOf(sweep[i]) }));
    out.stdout.write(`${formatSweepReport(sweep[0]?.tags?.[SWEEP_TAG] ?? "", table)}\n`);
    return 0;
  }
  const ids = sweep === undefined ? runs : sweep.map((r) => r.id);
  return reportCommand(store, ids, { ...flags, patterns }, out);
}

/** A sweep's runs when `id` names a sweep and no run: a run id or name wins. */
async function findSweep(store: RunStore, id: string): Promise<RunRecord[] | undefined> {
  const isRun = await store.resolveId(id).then(
    () => true,
    () => false,
  );
  if (isRun) return undefined;
  const runs = await findSweepRuns(store, id);
  return runs.length === 0 ? undefined : runs;
}

function paramsOf(record: RunRecord | undefined): Record<string, string> {
  const { [SWEEP_TAG]: _sweep, ...params } = record?.tags ?? {};
  return params;
}
