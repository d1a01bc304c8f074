// tqdm bars, PyTorch Lightning's `Epoch N:` bars, and Ultralytics' own `━━━` bar tail.
import type { MetricEvent, ParsedEvent, ProgressEvent } from "./types.js";
import { findPairs, parseDuration, parseRate } from "./values.js";

// `desc: 45%|████▌     | 450/1000 [00:12<00:15, 36.50it/s, loss=0.123]`
const TQDM =
  /^(.*?):?\s*(\d{1,3})%\|[^|]*\|\s*(\d+)\/(\d+)\s*\[([^\]<]*)<([^\],]*),\s*([^\],]+)(?:,\s*(.*))?\]\s*$/;
// Ultralytics >= 8.3: `desc: 45% ━━━━━─────── 4/8 3.1it/s 1.2s<1.3s`
const ULTRALYTICS =
  /^(.*?):\s+(\d{1,3})%\s+[━─╸]+\s+(\d+)\/(\d+)\s+(\S+\/s)\s+(\S+?)(?:<(\S+))?\s*$/;
/** Bars that are not training: validation, sanity checks, evaluation. Their steps are not progress. */
const NOT_TRAINING = /valid|sanity|\btest|predict|\beval/i;
/** Lightning shows the logger's version in the postfix; it is an id, not a measurement. */
const NOT_METRICS = new Set(["v_num"]);

export interface BarReading {
  desc: string;
  progress: ProgressEvent;
  postfix: string;
}

/** Reads the bar itself; the description before it is left to the caller (YOLO rows live there). */
export function readBar(line: string): BarReading | null {
  const t = TQDM.exec(line);
  if (t !== null) {
    const [, desc = "", percent, n, total, , remaining = "", rate = "", postfix = ""] = t;
    return build(desc, percent, n, total, rate.trim(), remaining, postfix);
  }
  const u = ULTRALYTICS.exec(line);
  if (u === null) return null;
  const [, desc = "", percent, n, total, rate = "", , remaining = ""] = u;
  return build(desc, percent, n, total, rate, remaining, "");
}

function build(
  desc: string,
  percent: string | undefined,
  n: string | undefined,
  total: string | undefined,
  rateText: string,
  remaining: string,
  postfix: string,
): BarReading | null {
  const step = Number(n);
  const steps = Number(total);
  // A rate in bytes or examples/s is a download or a `datasets.map`, not training.
  const rate = parseRate(rateText);
  if (rate === undefined && !/^\?\S*it\/s$/.test(rateText)) return null;
  if (steps === 0 || step > steps) return null;
  const progress: ProgressEvent = {
    type: "progress",
    step,
    steps,
    percent: Number(percent),
    source: "tqdm",
  };
  if (rate !== undefined) progress.rate = rate;
  const eta = parseDuration(remaining);
  if (eta !== undefined) progress.etaSeconds = eta;
  return { desc: desc.trim(), progress, postfix };
}

/** Reads a tqdm bar; Lightning's `Epoch 2:` description gives the epoch (Lightning counts from 0). */
export function parseTqdmLine(line: string): ParsedEvent[] | null {
  const bar = readBar(line);
  if (bar === null) return null;
  if (NOT_TRAINING.test(bar.desc)) return [];
  // `Epoch 2` (Lightning) or a script's own `Epoch 3/10` description.
  const epoch = /^epoch\s*\[?(\d+)(?:\s*\/\s*(\d+))?\]?$/i.exec(bar.desc);
  if (epoch !== null) bar.progress.epoch = Number(epoch[1]);
  if (epoch?.[2] !== undefined) bar.progress.epochs = Number(epoch[2]);
  const metrics = findPairs(bar.postfix)
    .filter(({ name }) => !NOT_METRICS.has(name))
    .map(({ name, value }) => {
      const event: MetricEvent = { type: "metric", name, value, source: "tqdm" };
      if (bar.progress.epoch !== undefined) event.epoch = bar.progress.epoch;
      return event;
    });
  return [bar.progress, ...metrics];
}
