// A run's metrics.jsonl read back into points, and grouped into one series a metric with an x axis.

/** One line of metrics.jsonl, as session/progress.ts appends them. NaN was written as null. */
export interface MetricPoint {
  time: string;
  name: string;
  value: number;
  step?: number;
  epoch?: number;
  source: string;
  /** The attempt of a retried run it came from (report/attempts.ts). */
  attempt?: number;
}

/** What a series is plotted against: the training step, the epoch, or the order of the reports. */
export type XKind = "step" | "epoch" | "index";

export interface MetricSeries {
  name: string;
  xKind: XKind;
  x: number[];
  y: number[];
}

/**
 * Skips lines it cannot read rather than failing: the last line of a run that is still writing may
 * be half there, and one bad line should not hide the rest of the curve.
 */
export function parseMetricsJsonl(text: string): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      continue;
    }
    const point = toPoint(raw);
    if (point) points.push(point);
  }
  return points;
}

function toPoint(raw: unknown): MetricPoint | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.name !== "string") return undefined;
  if (typeof r.value !== "number" && r.value !== null) return undefined;
  const point: MetricPoint = {
    time: typeof r.time === "string" ? r.time : "",
    name: r.name,
    value: typeof r.value === "number" ? r.value : Number.NaN,
    source: typeof r.source === "string" ? r.source : "",
  };
  if (typeof r.step === "number") point.step = r.step;
  if (typeof r.epoch === "number") point.epoch = r.epoch;
  return point;
}

/** One series a metric name, in the order the names first appeared in the log. */
export function groupSeries(points: readonly MetricPoint[]): MetricSeries[] {
  const byName = new Map<string, MetricPoint[]>();
  for (const point of points) {
    const list = byName.get(point.name);
    if (list) list.push(point);
    else byName.set(point.name, [point]);
  }
  return [...byName].map(([name, list]) => {
    const xKind = chooseXKind(list);
    return {
      name,
      xKind,
      x: list.map((p, i) =>
        xKind === "index" ? i + 1 : ((xKind === "step" ? p.step : p.epoch) ?? 0),
      ),
      y: list.map((p) => p.value),
    };
  });
}

/**
 * A chart needs x to grow: the step when every point has one and it grows, else the epoch the same
 * way, else the report's position (a Lightning bar's step restarts each epoch; an epoch repeats when
 * a metric is printed every few batches).
 */
export function chooseXKind(points: readonly MetricPoint[]): XKind {
  if (increases(points.map((p) => p.step))) return "step";
  if (increases(points.map((p) => p.epoch))) return "epoch";
  return "index";
}

function increases(values: (number | undefined)[]): boolean {
  if (values.length === 0) return false;
  let previous = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value === undefined || !(value > previous)) return false;
    previous = value;
  }
  return true;
}
