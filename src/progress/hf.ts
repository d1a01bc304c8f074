// Hugging Face Trainer log dicts, printed as a Python dict repr: {'loss': 0.69, 'epoch': 0.5}.
import type { MetricEvent, ParsedEvent } from "./types.js";
import { parseValue } from "./values.js";

// Trainer prints floats bare; some versions quote them ('0.6931'), so accept both.
const ENTRY = /^'([^'\\]+)':\s*(?:'([^']*)'|([^,']+))$/;

/** Reads `{'loss': 0.6931, 'grad_norm': 1.23, 'learning_rate': 4.5e-05, 'epoch': 0.5}`. */
export function parseHfLine(line: string): ParsedEvent[] | null {
  const text = line.trim();
  if (!text.startsWith("{'") || !text.endsWith("}")) return null;
  const values = new Map<string, number>();
  for (const part of text.slice(1, -1).split(/,\s*(?=')/)) {
    const entry = ENTRY.exec(part.trim());
    if (entry?.[1] === undefined) return null;
    const value = parseValue(entry[2] ?? entry[3] ?? "");
    if (value !== undefined) values.set(entry[1], value);
  }
  const epoch = values.get("epoch");
  values.delete("epoch");
  if (values.size === 0) return null;
  return [...values].map(([name, value]) => {
    const event: MetricEvent = { type: "metric", name, value, source: "hf" };
    if (epoch !== undefined) event.epoch = epoch;
    return event;
  });
}
