// Keras `model.fit` output: `Epoch 3/10` headers and progbar lines, TF2 (`[====]`) and Keras 3 (`━━━━`).
import type { LineParser, MetricEvent, ParsedEvent, ProgressEvent } from "./types.js";
import { findPairs, parseDuration, parseRate } from "./values.js";

const HEADER = /^\s*Epoch (\d+)\/(\d+)\s*$/;
// `469/469 [====] - 2s 4ms/step - loss: ..`, `12/469 ━━━━ 5s 12ms/step - ..`, `1079/1079 - 21s - loss: ..`
const STEP_LINE = /^\s*(\d+)\/(\d+|Unknown)\s+(?:\[[=>.]+\]\s+|[━─╸]+\s+)?(-\s+)?(.*)$/;
const HAS_BAR = /\[[=>.]+\]|[━─]/;

/** Stateful only to label step-line metrics with the epoch that the last header announced. */
export function createKerasParser(): LineParser {
  let epoch: number | undefined;
  return (line) => {
    const header = HEADER.exec(line);
    if (header !== null) {
      epoch = Number(header[1]);
      const epochs = Number(header[2]);
      if (epoch > epochs) return null;
      return [{ type: "progress", epoch, epochs, source: "keras" }];
    }
    return parseStepLine(line, epoch);
  };
}

function parseStepLine(line: string, epoch: number | undefined): ParsedEvent[] | null {
  const m = STEP_LINE.exec(line);
  if (m?.[1] === undefined || m[4] === undefined) return null;
  // Without a bar, only verbose=2 lines (`N/N - 21s - loss: ..`) are Keras; `3/10 files` is not.
  if (!HAS_BAR.test(line) && m[3] === undefined) return null;
  // TF2 and Keras 3 print `/step` or `ETA:`; Keras 1.x prints the elapsed time alone: `- 1s -`.
  if (!/\/step|ETA:|(?:^|\s-\s|^-\s)\d+(?:\.\d+)?s(?:\s+-\s|$)/.test(m[4])) return null;
  const step = Number(m[1]);
  const steps = m[2] === "Unknown" ? undefined : Number(m[2]);
  if (steps !== undefined && step > steps) return null;
  const progress: ProgressEvent = { type: "progress", step, source: "keras" };
  if (epoch !== undefined) progress.epoch = epoch;
  if (steps !== undefined) {
    progress.steps = steps;
    progress.percent = (step / steps) * 100;
  }
  const segments = m[4].split(/\s+-\s+/);
  readTiming(segments, progress, steps !== undefined && step < steps);
  const metrics = findPairs(segments.filter((s) => !s.startsWith("ETA:")).join(" - ")).map(
    ({ name, value }) => {
      const event: MetricEvent = { type: "metric", name, value, source: "keras" };
      if (epoch !== undefined) event.epoch = epoch;
      return event;
    },
  );
  return [progress, ...metrics];
}

/** TF2 prints `ETA: 25s`; Keras 3 prints the remaining time bare before `ms/step` while running. */
function readTiming(segments: string[], progress: ProgressEvent, running: boolean): void {
  for (const segment of segments) {
    const eta = /^ETA:\s*(\S+)$/.exec(segment);
    if (eta?.[1] !== undefined) {
      const seconds = parseDuration(eta[1]);
      if (seconds !== undefined) progress.etaSeconds = seconds;
      continue;
    }
    // Keras 1.x: the elapsed time of the epoch so far; the count over it is the rate.
    const elapsed = /^\d+(?:\.\d+)?s$/.test(segment) ? parseDuration(segment) : undefined;
    if (elapsed !== undefined && elapsed > 0 && progress.step !== undefined) {
      progress.rate = progress.step / elapsed;
      continue;
    }
    const timed = /^(?:(\S+)\s+)?(\S+\/step)$/.exec(segment);
    if (timed?.[2] === undefined) continue;
    const rate = parseRate(timed[2]);
    if (rate !== undefined) progress.rate = rate;
    const time = timed[1] === undefined ? undefined : parseDuration(timed[1]);
    if (running && time !== undefined && progress.etaSeconds === undefined) {
      progress.etaSeconds = time;
    }
  }
}
