// User-defined regexes from config: named groups become metrics, `epoch`/`step` groups become progress.
import { OffloadError } from "../errors.js";
import type { LineParser, MetricEvent, ProgressEvent, UserPattern } from "./types.js";
import { parseValue } from "./values.js";

const PROGRESS_GROUPS = new Set(["epoch", "epochs", "step", "steps", "percent"]);

/** Compiles the patterns once; a bad one is the user's mistake, reported before any log is read. */
export function compilePatterns(patterns: readonly UserPattern[]): LineParser[] {
  return patterns.map((entry, index) => compilePattern(entry, index));
}

function compilePattern(entry: UserPattern, index: number): LineParser {
  // `g` and `y` make exec stateful across lines; one match per line is what a pattern means here.
  const flags = (entry.flags ?? "").replace(/[gy]/g, "");
  let regex: RegExp;
  try {
    regex = new RegExp(entry.pattern, flags);
  } catch (error) {
    throw new OffloadError(
      "E_CONFIG_VALUE",
      `progress pattern ${index + 1} is not a valid regular expression: ${entry.pattern}`,
      { hint: "Use JavaScript regex syntax, e.g. acc=(?<accuracy>[0-9.]+)", cause: error },
    );
  }
  if (!/\(\?<[A-Za-z_$][\w$]*>/.test(entry.pattern)) {
    throw new OffloadError(
      "E_CONFIG_VALUE",
      `progress pattern ${index + 1} has no named group, so it cannot name a metric: ${entry.pattern}`,
      { hint: "Name each number you want, e.g. acc=(?<accuracy>[0-9.]+)" },
    );
  }
  return (line) => {
    const groups = regex.exec(line)?.groups;
    if (groups === undefined) return null;
    const progress: ProgressEvent = { type: "progress", source: "pattern" };
    const metrics: MetricEvent[] = [];
    for (const [name, text] of Object.entries(groups)) {
      const value = text === undefined ? undefined : parseValue(text);
      if (value === undefined) continue;
      if (PROGRESS_GROUPS.has(name)) {
        progress[name as "epoch" | "epochs" | "step" | "steps" | "percent"] = value;
      } else {
        metrics.push({ type: "metric", name, value, source: "pattern" });
      }
    }
    for (const metric of metrics) {
      if (progress.epoch !== undefined) metric.epoch = progress.epoch;
      if (progress.step !== undefined) metric.step = progress.step;
    }
    return Object.keys(progress).length > 2 ? [progress, ...metrics] : metrics;
  };
}
