// Hand-written training prints: `Epoch 5/10 loss: 0.23`, `Epoch [1/10], Step [100/600], Loss: 0.2345`.
import type { MetricEvent, ParsedEvent, ProgressEvent } from "./types.js";
import { findPairs } from "./values.js";

// `Epoch 5/10`, `Epoch: 5/10`, `Epoch [5/10]`, `epoch 5 of 10`; not `epochs` or `Epoch 3:` alone.
const EPOCH = /(?<![\w/])epoch\s*:?\s*\[?\s*(\d+)\s*(?:\/|\bof\b)\s*(\d+)\s*\]?(?![\w./])/i;
const STEP =
  /(?<![\w/])(?:step|iter|iteration|batch)\s*:?\s*\[?\s*(\d+)\s*(?:\/|\bof\b)\s*(\d+)\s*\]?(?![\w./])/i;
/** Names that already went into the progress event, or that describe the run rather than measure it. */
const NOT_METRICS = new Set(["epoch", "epochs", "step", "steps", "iter", "iteration", "batch"]);

/** Reads a line that names its epoch or step as `a/b`, plus `name: value` pairs on it. */
export function parseEpochLine(line: string): ParsedEvent[] | null {
  const epoch = EPOCH.exec(line);
  const step = STEP.exec(line);
  // A bare `Step 3/5` counts only at the start of a line: elsewhere it is too often a path or a date.
  if (epoch === null && (step === null || line.slice(0, step.index).trim() !== "")) return null;
  const progress: ProgressEvent = { type: "progress", source: "epoch" };
  if (epoch !== null && !readCount(epoch, progress, "epoch", "epochs")) return null;
  if (step !== null && !readCount(step, progress, "step", "steps") && epoch === null) return null;
  const rest = [epoch, step].reduce(
    (text, m) => (m === null ? text : text.replace(m[0], " ")),
    line,
  );
  const metrics = findPairs(rest)
    .filter(({ name }) => !NOT_METRICS.has(name.toLowerCase()))
    .map(({ name, value }) => {
      const event: MetricEvent = { type: "metric", name, value, source: "epoch" };
      if (progress.epoch !== undefined) event.epoch = progress.epoch;
      if (progress.step !== undefined) event.step = progress.step;
      return event;
    });
  return [progress, ...metrics];
}

/** `a/b` is a count only when a ≤ b; `Epoch 12/05` reads like a date, not progress. */
function readCount(
  match: RegExpExecArray,
  progress: ProgressEvent,
  current: "epoch" | "step",
  total: "epochs" | "steps",
): boolean {
  const a = Number(match[1]);
  const b = Number(match[2]);
  if (!(b > 0 && a <= b)) return false;
  progress[current] = a;
  progress[total] = b;
  return true;
}
