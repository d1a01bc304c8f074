// `key value` columns split by `|` or tabs: `epoch 3 | train loss 0.35 | val acc 92.10%`, the PyTorch
// examples' `| epoch  25 |   800/ 1106 batches | lr 20.00 | loss  4.02 | ppl    55.54` and
// `Epoch: [0][   10/40037]\tTime  0.018 ( 0.114)\tLoss 2.9971e+00 (6.2409e+00)\tAcc@1 100.00 ( 81.82)`.
import type { MetricEvent, ParsedEvent, ProgressEvent } from "./types.js";
import { parseValue, VALUE } from "./values.js";

const IMAGENET_HEAD = /^epoch:\s*\[(\d+)\]\s*\[\s*(\d+)\s*\/\s*(\d+)\s*\]$/i;
// `epoch 3`, `end of epoch  25`, `Epoch 00000`, `epoch 2/10`, `Epoch [1/20]` after a log record's
// time stamp; what follows may be a pair (`Epoch 10 loss 12.3`).
const EPOCH_HEAD =
  /^(?:.*?\s-\s+)?(?:end of\s+)?epoch\s*:?\s*\[?\s*(\d+)(?:\s*\/\s*(\d+))?\s*\]?(?:\s+(.*))?$/i;
const STEP_HEAD = /^(?:step|iter|iteration|batch)\s*:?\s*(\d+)(?:\s*\/\s*(\d+))?$/i;
const BATCHES = /^(\d+)\s*\/\s*(\d+)\s+(?:batches|steps|iters)$/i;
// A name, then its value; a running average in parentheses after it is left out; `%` is kept as written.
const PAIR = new RegExp(
  String.raw`^([A-Za-z][\w@.()/ -]*?)\s*:?\s+(${VALUE})%?(?:\s*\(\s*${VALUE}%?\s*\))?$`,
  "i",
);

/**
 * Claims a line only when one column says where training is (an epoch or a step), so a table of
 * numbers or a config dump is never read as metrics. Columns that are neither (`time: 127.27s`,
 * `GPU 401.2 MB`) are skipped: a value with a unit is not the number a user would chart.
 */
export function parseColumnsLine(line: string): ParsedEvent[] | null {
  const segments = line
    .split(/\s*\|\s*|\t+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (segments.length < 2) return null;
  const progress: ProgressEvent = { type: "progress", source: "columns" };
  const pairs: Array<{ name: string; value: number }> = [];
  for (const segment of segments) readSegment(segment, progress, pairs);
  if (progress.epoch === undefined && progress.step === undefined) return null;
  if (pairs.length === 0) return null;
  if (progress.steps !== undefined && progress.step !== undefined) {
    if (progress.step > progress.steps) return null;
    progress.percent = (progress.step / progress.steps) * 100;
  }
  const metrics = pairs.map(({ name, value }) => {
    const event: MetricEvent = { type: "metric", name, value, source: "columns" };
    if (progress.epoch !== undefined) event.epoch = progress.epoch;
    if (progress.step !== undefined) event.step = progress.step;
    return event;
  });
  return [progress, ...metrics];
}

function readSegment(
  segment: string,
  progress: ProgressEvent,
  pairs: Array<{ name: string; value: number }>,
): void {
  const imagenet = IMAGENET_HEAD.exec(segment);
  if (imagenet !== null) {
    progress.epoch = Number(imagenet[1]);
    progress.step = Number(imagenet[2]);
    progress.steps = Number(imagenet[3]);
    return;
  }
  const epoch = EPOCH_HEAD.exec(segment);
  if (epoch !== null && progress.epoch === undefined) {
    progress.epoch = Number(epoch[1]);
    if (epoch[2] !== undefined) progress.epochs = Number(epoch[2]);
    if (epoch[3] !== undefined) readPair(epoch[3], pairs);
    return;
  }
  const step = STEP_HEAD.exec(segment) ?? BATCHES.exec(segment);
  if (step !== null && progress.step === undefined) {
    progress.step = Number(step[1]);
    if (step[2] !== undefined) progress.steps = Number(step[2]);
    return;
  }
  readPair(segment, pairs);
}

// `Train Loss: 0.4571 Acc: 0.8349`: several `name: value` in one column.
const COLON_PAIR = new RegExp(
  String.raw`((?:[A-Za-z][\w@.()/-]*\s+)*?[A-Za-z][\w@.()/-]*)\s*:\s*(${VALUE})%?(?=\s|$)`,
  "gi",
);
/** A column's first word that says which data the numbers after it are about. */
const QUALIFIER = /^(train|training|val|valid|validation|test|eval)\s+/i;

function readPair(segment: string, pairs: Array<{ name: string; value: number }>): void {
  const pair = PAIR.exec(segment);
  const value = pair?.[2] === undefined ? undefined : parseValue(pair[2]);
  if (pair?.[1] !== undefined && value !== undefined) {
    pairs.push({ name: pair[1].trim(), value });
    return;
  }
  // `Train Loss: 0.45 Acc: 0.83 | Test Loss: 0.32 Acc: 0.88`: the qualifier holds for the column,
  // so the second `Acc` is `test_acc`, not the train one overwritten.
  let qualifier = "";
  for (const [index, m] of [...segment.matchAll(COLON_PAIR)].entries()) {
    const name = (m[1] ?? "").trim();
    const parsed = m[2] === undefined ? undefined : parseValue(m[2]);
    if (parsed === undefined) continue;
    if (index === 0) qualifier = QUALIFIER.exec(name)?.[1] ?? "";
    const qualified =
      index > 0 && qualifier !== "" && !/\s/.test(name) ? `${qualifier} ${name}` : name;
    pairs.push({ name: qualified, value: parsed });
  }
}
