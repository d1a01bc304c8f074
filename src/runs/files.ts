// The files of a run folder besides run.json, by name: only runs/ spells them, so readers and writers
// elsewhere go through these functions and cannot disagree on a name or a line format.
import { appendFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export const LOG_FILE = "output.log";
export const METRICS_FILE = "metrics.jsonl";
export const REPORT_FILE = "report.html";
/** The host's machine samples, byte for byte as the sampler wrote them (src/remote/sampler.ts). */
export const SAMPLES_FILE = "machine.txt";

/**
 * Appends metrics to the run's metrics.jsonl, one JSON line each stamped with the time it was seen.
 * Synchronous, as the log is: lines land in the order the log produced them.
 */
export function appendMetrics(runDir: string, metrics: readonly object[]): void {
  if (metrics.length === 0) return;
  const time = new Date().toISOString();
  const lines = metrics.map((metric) => JSON.stringify({ time, ...metric }));
  appendFileSync(join(runDir, METRICS_FILE), `${lines.join("\n")}\n`);
}

/** A run file's text, "" where the run has none (a run that printed no metric). */
export async function readRunFile(runDir: string, name: string): Promise<string> {
  return readFile(join(runDir, name), "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
}
