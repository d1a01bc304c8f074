// The self-contained HTML report: uPlot's code and style inlined, so the file opens offline, anywhere.

import { formatNumber } from "./format.js";
import { PAGE_SCRIPT, PAGE_STYLE } from "./page.js";
import type { ReportData } from "./report-data.js";
import type { RunSummary } from "./summary.js";
import { describeOutcome } from "./text.js";

/** uPlot as read from node_modules by the caller (this module reads no files). */
export interface ChartAssets {
  js: string;
  css: string;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** JSON that cannot end the script element it sits in (a run's command may hold `</script>`). */
function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

function embedRaw(code: string, tag: "script" | "style"): string {
  return code.replace(new RegExp(`</${tag}`, "gi"), `<\\/${tag}`);
}

function summaryTable(runs: readonly RunSummary[]): string {
  const rows = runs.flatMap((run) => {
    const outcome = escapeHtml(describeOutcome(run));
    const head = `<tr class="run"><th colspan="4">${escapeHtml(run.id)} <span class="status status-${escapeHtml(run.status)}">${outcome}</span><div class="cmd">${escapeHtml(`${run.target}: ${run.command}`)}</div></th></tr>`;
    const metrics = run.metrics.map(
      (m) =>
        `<tr><td>${escapeHtml(m.name)}</td><td>${formatNumber(m.final)}</td><td>${formatNumber(m.best)} <small>(${m.goal})</small></td><td>${m.count}</td></tr>`,
    );
    return [
      head,
      ...(metrics.length > 0
        ? metrics
        : ['<tr><td colspan="4"><i>no metrics recorded</i></td></tr>']),
    ];
  });
  return `<table class="summary"><thead><tr><th>metric</th><th>final</th><th>best</th><th>points</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The host's load per sampled run: a table of mean and peak, and (drawn by the page) a chart. */
function machineSection(runs: readonly RunSummary[]): string {
  const sampled = runs.filter((run) => run.machine !== undefined);
  if (sampled.length === 0) return "";
  const percent = (value: number | null) => (value === null ? "-" : `${formatNumber(value)}%`);
  const tables = sampled.map((run) => {
    const machine = run.machine;
    if (machine === undefined) return "";
    const rows = machine.series
      .map(
        (s) =>
          `<tr><td>${escapeHtml(s.label.replace(/ %$/, ""))}</td><td>${percent(s.mean)}</td><td>${percent(s.max)}</td></tr>`,
      )
      .join("");
    return `<h3>${escapeHtml(run.id)} <small>${machine.samples} samples</small></h3><table class="machine-summary"><thead><tr><th>machine</th><th>mean</th><th>peak</th></tr></thead><tbody>${rows}</tbody></table><div class="machine-chart" data-run="${escapeHtml(run.id)}"></div>`;
  });
  return `<section id="machine"><h2>Machine</h2>${tables.join("")}</section>`;
}

export function renderReportHtml(
  data: ReportData,
  runs: readonly RunSummary[],
  assets: ChartAssets,
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${embedRaw(assets.css, "style")}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">generated ${escapeHtml(data.generatedAt)} by offload</p>
${summaryTable(runs)}
<div id="charts"></div>
${machineSection(runs)}
<script>${embedRaw(assets.js, "script")}</script>
<script>window.offloadReport = ${embedJson(data)};</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
