// `npm run bench`: offload against the bare tools it drives, side by side, medians and ratios.
// A warm run's time is mostly process starts (node ~210 ms bundled; each spawn blocks node 10-25 ms,
// each remote process costs ~5 ms on the test bed): overlap local work with round trips, prefer shell
// builtins in remote scripts, and measure here before and after.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openContext, REPO } from "./context.js";
import { measureDownload } from "./measure-download.js";
import { measureSampler } from "./measure-sampler.js";
import { measureStartup } from "./measure-startup.js";
import { measureStore } from "./measure-store.js";
import { measureLatency, measureMemory, measureThroughput } from "./measure-stream.js";
import { measureSync } from "./measure-sync.js";
import type { Result } from "./result.js";

const repeats = Math.max(1, Number(process.env.BENCH_REPEATS ?? 7) || 7);
const only = process.env.BENCH_ONLY?.split(",");

function formatNumber(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function formatTable(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.measure,
    `${formatNumber(r.offload)} ${r.unit}`,
    r.baseline === undefined ? "—" : `${formatNumber(r.baseline)} ${r.unit}`,
    r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`,
    r.target,
    r.pass ? "pass" : "MISSED",
  ]);
  const header = ["measure", "offload (median)", "baseline (median)", "ratio", "target", ""];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  return [header, ...rows]
    .map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  "))
    .join("\n");
}

function formatDetails(results: readonly Result[]): string {
  return results
    .map((r) => {
      const details = Object.entries(r.details)
        .map(([name, value]) => `${name} ${formatNumber(value)}`)
        .join(", ");
      return [
        `- ${r.measure}`,
        `    offload:  ${r.what.offload}`,
        ...(r.what.baseline ? [`    baseline: ${r.what.baseline}`] : []),
        ...(details ? [`    medians:  ${details}`] : []),
      ].join("\n");
    })
    .join("\n");
}

const started = performance.now();
const ctx = await openContext();
const results: Result[] = [];
try {
  const steps: [string, () => Promise<Result[]>][] = [
    ["startup", () => measureStartup(ctx, repeats)],
    ["store", () => measureStore(ctx, repeats)],
    ["sync", () => measureSync(ctx, repeats)],
    ["download", () => measureDownload(ctx, Math.min(repeats, 5))],
    ["stream", () => measureThroughput(ctx, Math.min(repeats, 5))],
    ["latency", () => measureLatency(ctx)],
    ["memory", () => measureMemory(ctx)],
    ["sampler", () => measureSampler(ctx, Math.min(repeats, 3))],
  ];
  for (const [name, step] of steps) {
    if (only && !only.includes(name)) continue;
    const t = performance.now();
    process.stderr.write(`bench: ${name}…`);
    results.push(...(await step()));
    process.stderr.write(` ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  }
} finally {
  ctx.cleanup();
}
process.stdout.write(`\n${formatTable(results)}\n\n${formatDetails(results)}\n`);
const dir = join(REPO, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, "latest.json");
const summary = {
  date: new Date().toISOString(),
  repeats,
  seconds: Math.round((performance.now() - started) / 1000),
  host: ctx.host,
  bed: ctx.bed.mode,
  node: process.version,
  results,
};
writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`\nJSON summary: ${file}\n`);
