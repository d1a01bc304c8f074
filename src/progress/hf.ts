// Hugging Face Trainer log dicts, printed as a Python dict repr: {'loss': 0.69, 'epoch': 0.5}, and
// the `***** Running training *****` block's totals.
import type { MetricEvent, ParsedEvent, ProgressEvent } from "./types.js";
import { parseValue } from "./values.js";

// Trainer prints floats bare; some versions quote them ('0.6931'), so accept both.
const ENTRY = /^'([^'\\]+)':\s*(?:'([^']*)'|([^,']+))$/;
// `  Num Epochs = 3`, `  Total optimization steps = 564`, as Trainer prints them before training.
const TOTALS = /^\s+(Num Epochs|Total optimization steps) = ([\d,]+)\s*$/;

/** Reads `{'loss': 0.6931, 'grad_norm': 1.23, 'learning_rate': 4.5e-05, 'epoch': 0.5}`. */
export function parseHfLine(line: string): ParsedEvent[] | null {
  const totals = TOTALS.exec(line);
  if (totals !== null)
    return readTotals(totals[1] ?? "", Number((totals[2] ?? "").replace(/,/g, "")));
  const text = line.trim();
  if (!text.startsWith("{'") || !text.endsWith("}")) return null;
  const values = new Map<string, number>();
  for (const part of text.slice(1, -1).split(/,\s*(?=')/)) {
    const entry = ENTRY.exec(part.trim());
    if (entry?.[1] === undefined) return null;
    const value = parseValue(entry[2] ?? entry[3] ?? "");
    if (value !== undefined) values.set(entry[1], value);
  }
  // `epoch` and `step` say where the numbers were taken (TF Trainer and log_history print `step`).
  const progress: ProgressEvent = { type: "progress", source: "hf" };
  const epoch = values.get("epoch");
  const step = values.get("step");
  if (epoch !== undefined) progress.epoch = epoch;
  if (step !== undefined) progress.step = step;
  values.delete("epoch");
  values.delete("step");
  if (values.size === 0) return null;
  const metrics = [...values].map(([name, value]) => {
    const event: MetricEvent = { type: "metric", name, value, source: "hf" };
    if (epoch !== undefined) event.epoch = epoch;
    if (step !== undefined) event.step = step;
    return event;
  });
  return [...(epoch === undefined && step === undefined ? [] : [progress]), ...metrics];
}

function readTotals(label: string, count: number): ParsedEvent[] {
  if (!(count > 0)) return [];
  const progress: ProgressEvent = { type: "progress", source: "hf" };
  if (label === "Num Epochs") progress.epochs = count;
  else progress.steps = count;
  return [progress];
}
