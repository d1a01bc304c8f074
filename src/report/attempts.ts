// A run retried (`retry:`) is one run in the report: each metric point belongs to the attempt that was
// under way when it was written (by the attempts' end times in run.json), and where a later attempt
// resumed from an earlier checkpoint and redid steps, its points replace the earlier attempt's.
import type { RunRecord } from "../runs/record.js";
import type { MetricPoint } from "./metrics.js";

/** Each point with its attempt; a run of one attempt is left as it is. */
export function assignAttempts(
  points: readonly MetricPoint[],
  record: Pick<RunRecord, "attempt" | "attempts">,
): MetricPoint[] {
  const ends = (record.attempts ?? []).map((a) => ({ attempt: a.attempt, at: a.finishedAt }));
  if (ends.length === 0) return [...points];
  const last = record.attempt ?? (ends.at(-1)?.attempt ?? 0) + 1;
  return points.map((point) => ({
    ...point,
    // ISO times compare as strings; a point without a time is the last attempt's.
    attempt: ends.find((end) => point.time !== "" && point.time <= end.at)?.attempt ?? last,
  }));
}

/**
 * The curve across attempts: an earlier attempt's points at or past the first step (or epoch) a later
 * attempt printed for the same metric were redone by it and give way.
 */
export function joinAttempts(points: readonly MetricPoint[]): MetricPoint[] {
  const firstOf = new Map<string, number>();
  for (const point of points) {
    const x = point.step ?? point.epoch;
    if (point.attempt === undefined || x === undefined) continue;
    const key = `${point.name}\0${point.attempt}`;
    if (!firstOf.has(key)) firstOf.set(key, x);
  }
  return points.filter((point) => {
    const x = point.step ?? point.epoch;
    if (point.attempt === undefined || x === undefined) return true;
    for (const [key, start] of firstOf) {
      const [name, attempt] = key.split("\0");
      if (name === point.name && Number(attempt) > point.attempt && x >= start) return false;
    }
    return true;
  });
}
