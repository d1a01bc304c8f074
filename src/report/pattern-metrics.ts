// The metrics a user's `progress.patterns` find in a run's log, for a run recorded before the
// patterns were written: `offload report` reads them from output.log beside metrics.jsonl.
import { parseLogText } from "../progress/stream.js";
import type { MetricPoint } from "./metrics.js";

/**
 * Adds what the patterns find under names metrics.jsonl does not have yet; a name it has was
 * recorded live (by these patterns or a built-in parser) and is kept as recorded, with its times.
 */
export function addPatternMetrics(
  points: readonly MetricPoint[],
  log: string,
  patterns: readonly string[],
): MetricPoint[] {
  if (patterns.length === 0 || log === "") return [...points];
  const known = new Set(points.map((p) => p.name));
  const found = parseLogText(log, { patterns: patterns.map((pattern) => ({ pattern })) }).flatMap(
    (event): MetricPoint[] => {
      if (event.type !== "metric" || event.source !== "pattern" || known.has(event.name)) return [];
      const { type: _type, ...rest } = event;
      return [{ time: "", ...rest }];
    },
  );
  return [...points, ...found];
}
