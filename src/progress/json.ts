// JSON-line events: offload's python helper, seed 002's {"type":"progress"} shape, plain metric dicts.
import type { MetricEvent, ParsedEvent, ParserName, ProgressEvent } from "./types.js";

type Json = Record<string, unknown>;

/** The marker our python helper prints before each report, so it travels in order with the log. */
export const OFFLOAD_MARKER = "@offload ";

const PROGRESS_KEYS: Record<string, "epoch" | "epochs" | "step" | "steps"> = {
  epoch: "epoch",
  epochs: "epochs",
  total_epochs: "epochs",
  step: "step",
  global_step: "step",
  steps: "steps",
  total_steps: "steps",
};

/** Reads a line that is one JSON object; null when it is not JSON or not a shape we know. */
export function parseJsonLine(line: string): ParsedEvent[] | null {
  const text = line.startsWith(OFFLOAD_MARKER) ? line.slice(OFFLOAD_MARKER.length) : line;
  const object = parseObject(text.trim());
  if (object === undefined) return null;
  if (object.offload !== undefined) return readReport(object);
  if (object.type === "progress") return readSeedProgress(object);
  return readPlainMetrics(object);
}

function parseObject(text: string): Json | undefined {
  if (!text.startsWith("{") || !text.endsWith("}")) return undefined;
  for (const candidate of [text, quoteNonFinite(text)]) {
    try {
      const value: unknown = JSON.parse(candidate);
      return isObject(value) ? value : undefined;
    } catch {
      // Valid JSON is the common case; only a refused line is retried with NaN/Infinity quoted.
    }
  }
  return undefined;
}

/** Python's json.dumps writes NaN/Infinity bare, which JSON.parse refuses; keep them as tagged strings. */
function quoteNonFinite(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  return text.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, '$1"\\u0000$2"');
}

function readNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (value === "\u0000NaN") return Number.NaN;
  if (value === "\u0000Infinity") return Number.POSITIVE_INFINITY;
  if (value === "\u0000-Infinity") return Number.NEGATIVE_INFINITY;
  return undefined;
}

/** `{"offload":1,"type":"report","step":..,"epoch":..,"metrics":{..},"nonfinite":{"loss":"nan"}}` */
function readReport(object: Json): ParsedEvent[] {
  if (object.offload !== 1 || object.type !== "report") return [];
  const progress = readProgress(object, "offload");
  const metrics = isObject(object.metrics) ? object.metrics : {};
  const nonfinite = isObject(object.nonfinite) ? object.nonfinite : {};
  const restored: Json = { ...metrics };
  for (const [name, spelled] of Object.entries(nonfinite)) {
    restored[name] = spelled === "nan" ? Number.NaN : spelled === "-inf" ? -Infinity : Infinity;
  }
  return [...listProgress(progress), ...readMetrics(restored, progress, "offload")];
}

/** Seed 002: `{"type":"progress","data":{"epoch":5,"total_epochs":10,"progress":0.5,"metrics":{..}}}` */
function readSeedProgress(object: Json): ParsedEvent[] {
  const data = isObject(object.data) ? object.data : object;
  const progress = readProgress(data, "json");
  const fraction = readNumber(data.progress);
  if (fraction !== undefined && fraction >= 0 && fraction <= 1) progress.percent = fraction * 100;
  const percent = readNumber(data.percent);
  if (percent !== undefined) progress.percent = percent;
  const metrics = isObject(data.metrics) ? data.metrics : {};
  return [...listProgress(progress), ...readMetrics(metrics, progress, "json")];
}

/**
 * `{"epoch": 3, "loss": 0.12}`: only when every value is a number, so structured log records
 * (`{"level":"info","port":8080}`) never turn into metrics.
 */
function readPlainMetrics(object: Json): ParsedEvent[] | null {
  const entries = Object.entries(object);
  if (entries.length === 0 || entries.some(([, v]) => readNumber(v) === undefined)) return null;
  const progress = readProgress(object, "json");
  const metrics = Object.fromEntries(entries.filter(([key]) => PROGRESS_KEYS[key] === undefined));
  const events = readMetrics(metrics, progress, "json");
  return [...listProgress(progress), ...events];
}

function readProgress(object: Json, source: ParserName): ProgressEvent {
  const progress: ProgressEvent = { type: "progress", source };
  for (const [key, field] of Object.entries(PROGRESS_KEYS)) {
    const value = readNumber(object[key]);
    if (value !== undefined && Number.isFinite(value) && progress[field] === undefined) {
      progress[field] = value;
    }
  }
  return progress;
}

function listProgress(progress: ProgressEvent): ProgressEvent[] {
  return Object.keys(progress).length > 2 ? [progress] : [];
}

function readMetrics(metrics: Json, at: ProgressEvent, source: ParserName): MetricEvent[] {
  const events: MetricEvent[] = [];
  for (const [name, raw] of Object.entries(metrics)) {
    const value = readNumber(raw);
    if (value === undefined) continue;
    const event: MetricEvent = { type: "metric", name, value, source };
    if (at.step !== undefined) event.step = at.step;
    if (at.epoch !== undefined) event.epoch = at.epoch;
    events.push(event);
  }
  return events;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
