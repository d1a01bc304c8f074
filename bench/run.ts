// `npm run bench`: offload against the bare tools it drives, side by side, medians and ratios.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openContext, REPO } from "./context.js";
import {
  measureDownload,
  measureLatency,
  measureMemory,
  measureStartup,
  measureSync,
  type Result,
} from "./measures.js";

const repeats = Number(process.env.BENCH_REPEATS ?? 7);
const only = process.env.BENCH_ONLY?.split(",");

function format(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.measure,
    `${r.offload.toFixed(1)} ${r.unit}`,
    r.baseline === undefined ? "—" : `${r.baseline.toFixed(1)} ${r.unit}`,
    r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`,
    r.target,
    r.pass ? "ok" : "MISSED",
  ]);
  const header = ["measure", "offload", "baseline", "ratio", "target", ""];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  return [header, ...rows]
    .map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  "))
    .join("\n");
}

const ctx = await openContext();
const results: Result[] = [];
try {
  const steps: [string, () => Promise<Result[]>][] = [
    ["startup", () => measureStartup(ctx, repeats)],
    ["sync", () => measureSync(ctx, Math.min(repeats, 5))],
    ["download", () => measureDownload(ctx, Math.min(repeats, 3))],
    ["latency", () => measureLatency(ctx)],
    ["memory", () => measureMemory(ctx)],
  ];
  for (const [name, step] of steps) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    results.push(...(await step()));
  }
} finally {
  ctx.cleanup();
}
process.stdout.write(`${format(results)}\n\n`);
for (const r of results) process.stdout.write(`- ${r.measure}: ${r.note}\n`);
const dir = join(REPO, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, "latest.json");
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), repeats, results }, null, 2)}\n`,
);
process.stdout.write(`\nJSON summary: ${file}\n`);
