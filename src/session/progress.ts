// Watches the log as it streams: parses training progress and metrics out of it (no change to the
// user's script needed), reports them as events, and appends the metrics to the run's metrics.jsonl (runs/files.ts).
import type { Reporter } from "../events.js";
import { createLogParser } from "../progress/index.js";
import { appendMetrics } from "../runs/files.js";

export interface TrackOptions {
  /** `progress.patterns` from the settings: the user's regexes beside the built-in parsers. */
  patterns?: readonly string[];
  /**
   * The log this machine already has (an attach): read only to set the parsers' state (a YOLO
   * header names the columns of the rows that follow), never reported or written again.
   */
  seen?: string;
}

export function trackProgress(
  report: Reporter,
  runDir: string,
  options: TrackOptions = {},
): Reporter {
  const parser = createLogParser({
    patterns: (options.patterns ?? []).map((pattern) => ({ pattern })),
  });
  if (options.seen) parser.push(options.seen);
  return (event) => {
    report(event);
    if (event.type !== "output") return;
    // Bytes, not text: the parser decodes only the lines that may hold progress.
    const events = parser.push(event.data);
    const metrics: object[] = [];
    for (const parsed of events) {
      report(parsed);
      if (parsed.type === "metric") {
        const { type: _type, ...metric } = parsed;
        metrics.push(metric);
      }
    }
    appendMetrics(runDir, metrics);
  };
}
