// The line a followed run ends with: where its log, outputs and report are, and how its main metric did.
import { relative } from "node:path";
import { formatNumber } from "../../report/format.js";
import { groupSeries, parseMetricsJsonl } from "../../report/metrics.js";
import { pickMainMetric, summarizeSeries } from "../../report/summary.js";
import type { RunRecord } from "../../runs/record.js";
import type { RunStore } from "../../runs/store.js";

/** `outputs: .offload/runs/<id>/ · best val_loss 0.31 · report: offload report <id>`. */
export async function describeRunEnd(
  store: RunStore,
  record: RunRecord,
  cwd: string = process.cwd(),
): Promise<string> {
  const dir = store.runDir(record.id);
  const shown = relative(cwd, dir) || ".";
  const parts = [`outputs: ${shown.startsWith("..") ? dir : shown}/`];
  const text = await store.readMetrics(record.id).catch(() => "");
  const main = pickMainMetric(groupSeries(parseMetricsJsonl(text)).map(summarizeSeries));
  if (main !== undefined && Number.isFinite(main.best))
    parts.push(`best ${main.name} ${formatNumber(main.best)}`);
  parts.push(`report: offload report ${record.id}`);
  return parts.join(" · ");
}
