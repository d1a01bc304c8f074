// The log parser a run feeds its output through: chunks in, typed progress and metric events out.
import { parseColumnsLine } from "./columns.js";
import { parseEpochLine } from "./epoch.js";
import { createLineGate, type LineGate, toRanges } from "./gate.js";
import { parseHfLine } from "./hf.js";
import { OFFLOAD_MARKER, parseJsonLine } from "./json.js";
import { createKerasParser } from "./keras.js";
import { stripAnsi } from "./lines.js";
import { compilePatterns } from "./patterns.js";
import { createPytorchExampleParser } from "./pytorch.js";
import { parseResultLine } from "./result.js";
import { parseTqdmLine } from "./tqdm.js";
import type { LineParser, ParsedEvent, UserPattern } from "./types.js";
import { createYoloParser } from "./yolo.js";

export interface LogParserOptions {
  patterns?: readonly UserPattern[];
}

export interface LogParser {
  /** The log's next bytes (or text); the events of the lines they complete. */
  push(chunk: string | Uint8Array): ParsedEvent[];
  end(): ParsedEvent[];
}

/**
 * Built-in parsers, most specific first; the first that claims a line wins, so a line is never
 * counted twice (a YOLO row is also a tqdm bar, a Keras header is also an `Epoch a/b` line).
 * User patterns run on every line besides, and their events replace built-in ones of the same
 * name, so a pattern can add a number the built-ins miss without losing the bar's progress.
 */
export function createBuiltins(): LineParser[] {
  return [
    parseJsonLine,
    parseHfLine,
    parseResultLine,
    createYoloParser(),
    createKerasParser(),
    parseTqdmLine,
    createPytorchExampleParser(),
    parseColumnsLine,
    parseEpochLine,
  ];
}

/** A user's pattern needs a value: a digit, or NaN/Inf spelled out. */
const MAY_CARRY_NUMBERS = /^[^\r\n]*(?:\d|nan|inf)[^\r\n]*/gim;
/** A line longer than this without a break is not a log line worth keeping whole (binary, a dump). */
const MAX_LINE = 1 << 20;

/**
 * The lines worth a parser's look in `bytes[start, end)` (whole lines): those a built-in could claim
 * (gate.ts) and, with user patterns, those that hold a number.
 */
function findLines(
  gate: LineGate,
  bytes: Buffer,
  start: number,
  end: number,
  user: boolean,
): number[] {
  const claimable = gate.find(bytes, start, end);
  if (!user) return claimable;
  const starts = new Set<number>();
  for (let i = 0; i < claimable.length; i += 2) starts.add((claimable[i] ?? start) - start);
  for (const m of bytes.toString("latin1", start, end).matchAll(MAY_CARRY_NUMBERS))
    starts.add(m.index);
  return toRanges(bytes.subarray(start, end), [...starts], start);
}

/** Index of the first `\n` or `\r` at or after `from`, or -1. */
function firstBreak(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) if (bytes[i] === 10 || bytes[i] === 13) return i;
  return -1;
}

/** Index of the last `\n` or `\r`, or -1. */
function lastBreak(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0; i--) if (bytes[i] === 10 || bytes[i] === 13) return i;
  return -1;
}

/**
 * Throws OffloadError E_CONFIG_VALUE for an invalid user pattern. Takes the log as bytes (or text):
 * only the lines the gate finds are decoded and parsed, and the unfinished tail waits for the next chunk.
 */
export function createLogParser(options: LogParserOptions = {}): LogParser {
  const user = compilePatterns(options.patterns ?? []);
  const builtins = createBuiltins();
  const gate = createLineGate();
  let pending: Buffer = Buffer.alloc(0);
  const parseRegion = (bytes: Buffer, start: number, end: number, events: ParsedEvent[]) => {
    const lines = findLines(gate, bytes, start, end, user.length > 0);
    for (let i = 0; i < lines.length; i += 2) {
      const line = stripAnsi(bytes.toString("utf8", lines[i], lines[i + 1]));
      for (const part of splitMarker(line)) events.push(...parseLine(part, builtins, user));
    }
  };
  return {
    push(chunk) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : asBuffer(chunk);
      const events: ParsedEvent[] = [];
      const last = lastBreak(bytes);
      if (last < 0) {
        pending =
          pending.length + bytes.length > MAX_LINE
            ? Buffer.alloc(0)
            : Buffer.concat([pending, bytes]);
        return events;
      }
      let from = 0;
      if (pending.length > 0) {
        // The line the last chunk left unfinished ends in this one.
        const first = firstBreak(bytes, 0);
        const line = Buffer.concat([pending, bytes.subarray(0, first + 1)]);
        parseRegion(line, 0, line.length, events);
        from = first + 1;
      }
      parseRegion(bytes, from, last + 1, events);
      const rest = bytes.length - last - 1;
      pending = rest > MAX_LINE ? Buffer.alloc(0) : Buffer.from(bytes.subarray(last + 1));
      return events;
    },
    end() {
      const events: ParsedEvent[] = [];
      if (pending.length > 0) parseRegion(pending, 0, pending.length, events);
      pending = Buffer.alloc(0);
      return events;
    },
  };
}

/** A view of the same bytes: an output event's chunk is not copied to be read. */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Parses a whole log at once. */
export function parseLogText(text: string, options: LogParserOptions = {}): ParsedEvent[] {
  const parser = createLogParser(options);
  return [...parser.push(text), ...parser.end()];
}

export interface LineEvent {
  /** 1-based line of the file the event came from (\r-redrawn bars count as one line). */
  line: number;
  event: ParsedEvent;
}

/** The same events as parseLogText, each with the line it came from (`offload events FILE`). */
export function parseLogLines(text: string, patterns: readonly UserPattern[]): LineEvent[] {
  const parser = createLogParser({ patterns });
  const lines = text.split("\n");
  const found: LineEvent[] = [];
  lines.forEach((line, i) => {
    const chunk = i < lines.length - 1 ? `${line}\n` : line;
    for (const event of parser.push(chunk)) found.push({ line: i + 1, event });
  });
  for (const event of parser.end()) found.push({ line: lines.length, event });
  return found;
}

/**
 * A report printed while a tqdm bar holds the line arrives glued to the bar's text
 * (`45%|██ | 450/1000 [..]@offload {..}`); read the two halves apart.
 */
function splitMarker(line: string): string[] {
  const at = line.indexOf(`${OFFLOAD_MARKER}{`);
  return at <= 0 ? [line] : [line.slice(0, at), line.slice(at)];
}

/**
 * One spelling a metric, whatever the log's: `Loss` and `loss` are one metric, `val acc` and
 * `Train Acc` are `val_acc` and `train_acc`. Only a capitalised word is lowercased: acronyms and
 * mixed case (`AUC`, `mAP50`, `RESULT_HLB`'s `HLB`) mean something as spelled and stay.
 */
export function normalizeMetricName(name: string): string {
  return name
    .trim()
    .replace(/\s+/g, "_")
    .split(/([_./-]+)/)
    .map((word) => (/^[A-Z][a-z][^A-Z]*$/.test(word) ? word.toLowerCase() : word))
    .join("");
}

function normalizeNames(events: ParsedEvent[]): ParsedEvent[] {
  for (const event of events) {
    if (event.type === "metric") event.name = normalizeMetricName(event.name);
  }
  return events;
}

function parseLine(line: string, builtins: LineParser[], user: LineParser[]): ParsedEvent[] {
  const text = line.trimEnd();
  if (text.trim() === "") return [];
  let found: ParsedEvent[] = [];
  for (const parse of builtins) {
    const events = parse(text);
    if (events !== null) {
      found = normalizeNames(events);
      break;
    }
  }
  const mine = normalizeNames(user.flatMap((parse) => parse(text) ?? []));
  if (mine.length === 0) return found;
  const names = new Set(mine.flatMap((e) => (e.type === "metric" ? [e.name] : [])));
  const ownProgress = mine.some((e) => e.type === "progress");
  const kept = found.filter((e) => (e.type === "metric" ? !names.has(e.name) : !ownProgress));
  return [...kept, ...mine];
}
