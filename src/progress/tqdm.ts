// tqdm bars, PyTorch Lightning's `Epoch N:` bars, and Ultralytics' own `━━━` bar tail.
import type { MetricEvent, ParsedEvent, ProgressEvent } from "./types.js";
import { findPairs, parseDuration, parseRate } from "./values.js";

/**
 * `desc: 45%|████▌     | 450/1000 [00:12<00:15, 36.50it/s, loss=0.123]` and the forms real logs
 * also hold: no description (notebooks), no bar (Colab prints `34% 1020/3000 [..]`), no percent
 * and a `?` total (Lightning on an iterable dataset: `Epoch 0: |   | 5/? [..]`), only the counter
 * (a notebook widget's text: `3638/3638 [32:33<00:00, ..]`), and a line tqdm cut at the terminal's
 * width, which has no closing `]`.
 */
const TQDM =
  /^(.*?):?\s*(?:(\d{1,3})%)?\s*(?:\|[^|]*\|)?\s*(\d+)\/(\d+|\?)\s*\[([^\]<]*)<([^\],]*),\s*([^\],]+)(?:,\s*(.*?))?(\]?)\s*$/;
// Ultralytics >= 8.3: `desc: 45% ━━━━━─────── 4/8 3.1it/s 1.2s<1.3s`
const ULTRALYTICS =
  /^(.*?):\s+(\d{1,3})%\s+[━─╸]+\s+(\d+)\/(\d+)\s+(\S+\/s)\s+(\S+?)(?:<(\S+))?\s*$/;
/** Both bar forms hold a count (`450/1000`, `5/?`): a cheap test that spares most lines the regexes. */
const COUNT = /\d\/[\d?]/;
/** Bars that are not training: validation, sanity checks, evaluation. Their steps are not progress. */
const NOT_TRAINING = /valid|sanity|\btest|predict|\beval/i;
/** Lightning shows the logger's version in the postfix; counters say where, not how well. */
const NOT_METRICS = new Set(["v_num", "epoch", "step", "batch", "batch_id", "batch_idx", "iter"]);
// `Epoch 2` (Lightning), `Epoch 3/10`, `Epoch [1/50]`, `epoch= 1 loss=..` anywhere in the description.
const DESC_EPOCH = /(?<![\w])epoch\s*[=:]?\s*\[?\s*(\d+)(?:\s*\/\s*(\d+))?\s*\]?/i;

export interface BarReading {
  desc: string;
  progress: ProgressEvent;
  postfix: string;
}

/** Reads the bar itself; the description before it is left to the caller (YOLO rows live there). */
export function readBar(line: string): BarReading | null {
  if (!COUNT.test(line)) return null;
  // TQDM's leading `(.*?)` tries every start on a line without the `[` that it needs.
  const t = line.includes("[") ? TQDM.exec(line) : null;
  if (t !== null) {
    const [, desc = "", percent, n, total, , remaining = "", rate = "", postfix = "", closed] = t;
    // A cut line's last postfix entry may be cut too (`accuracy=50.0` of `50.00%`): leave it out.
    const kept = closed === "]" ? postfix : postfix.replace(/(?:^|,\s*)[^,]*$/, "");
    return build(desc, percent, n, total, rate.trim(), remaining, kept);
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
  const steps = total === "?" ? undefined : Number(total);
  // A rate in bytes or examples/s is a download or a `datasets.map`, not training.
  const rate = parseRate(rateText);
  if (rate === undefined && !/^\?\S*it\/s$/.test(rateText)) return null;
  if (steps === 0 || (steps !== undefined && step > steps)) return null;
  const progress: ProgressEvent = { type: "progress", step, source: "tqdm" };
  if (steps !== undefined) {
    progress.steps = steps;
    progress.percent = percent === undefined ? (step / steps) * 100 : Number(percent);
  }
  if (rate !== undefined) progress.rate = rate;
  // Without a total, tqdm's "remaining" is a placeholder (`00:00`), not an estimate.
  const eta = steps === undefined ? undefined : parseDuration(remaining);
  if (eta !== undefined) progress.etaSeconds = eta;
  return { desc: desc.trim(), progress, postfix };
}

/** Reads a tqdm bar; Lightning's `Epoch 2:` description gives the epoch (Lightning counts from 0). */
export function parseTqdmLine(line: string): ParsedEvent[] | null {
  const bar = readBar(line);
  if (bar === null) return null;
  if (NOT_TRAINING.test(bar.desc)) return [];
  const epoch = DESC_EPOCH.exec(bar.desc);
  if (epoch !== null) bar.progress.epoch = Number(epoch[1]);
  if (epoch?.[2] !== undefined) bar.progress.epochs = Number(epoch[2]);
  // A description can carry numbers too (`epoch= 1 loss=0.08 batch_id=937`), then the postfix's.
  const metrics = [...findPairs(bar.desc), ...findPairs(bar.postfix)]
    .filter(({ name }) => !NOT_METRICS.has(name.toLowerCase()))
    .map(({ name, value }) => {
      const event: MetricEvent = { type: "metric", name, value, source: "tqdm" };
      if (bar.progress.epoch !== undefined) event.epoch = bar.progress.epoch;
      return event;
    });
  return [bar.progress, ...metrics];
}
