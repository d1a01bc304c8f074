// The log parser a run feeds its output through: chunks in, typed progress and metric events out.
import { parseColumnsLine } from "./columns.js";
import { parseEpochLine } from "./epoch.js";
import { parseHfLine } from "./hf.js";
import { OFFLOAD_MARKER, parseJsonLine } from "./json.js";
import { createKerasParser } from "./keras.js";
import { createLineSplitter } from "./lines.js";
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
  push(chunk: string): ParsedEvent[];
  end(): ParsedEvent[];
}

/**
 * Built-in parsers, most specific first; the first that claims a line wins, so a line is never
 * counted twice (a YOLO row is also a tqdm bar, a Keras header is also an `Epoch a/b` line).
 * User patterns run on every line besides, and their events replace built-in ones of the same
 * name, so a pattern can add a number the built-ins miss without losing the bar's progress.
 */
function createBuiltins(): LineParser[] {
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

/**
 * Every event carries a number (digits, or NaN/Inf spelled out), and the only lines that set state
 * without one are YOLO's `Epoch GPU_mem …` and `Class Images …` headers: other lines cannot matter,
 * so they are never split out or parsed (a log of short lines streamed at a twentieth of the speed).
 */
const MAY_CARRY_NUMBERS = /^[^\r\n]*(?:\d|nan|inf|epoch|class)[^\r\n]*/gim;
/** The built-in parsers also need a word, `/`, `%` or `{` beside the number: a bare `12` is no one's. */
const MAY_BE_BUILTIN = /^(?=[^\r\n]*[a-z/%{])(?=[^\r\n]*(?:\d|nan|inf|epoch|class))[^\r\n]*/gim;

/** Throws OffloadError E_CONFIG_VALUE for an invalid user pattern. */
export function createLogParser(options: LogParserOptions = {}): LogParser {
  const user = compilePatterns(options.patterns ?? []);
  const builtins = createBuiltins();
  const splitter = createLineSplitter(user.length > 0 ? MAY_CARRY_NUMBERS : MAY_BE_BUILTIN);
  const parseLines = (lines: string[]) => {
    const events: ParsedEvent[] = [];
    for (const line of lines)
      for (const part of splitMarker(line)) events.push(...parseLine(part, builtins, user));
    return events;
  };
  return {
    push: (chunk) => parseLines(splitter.push(chunk)),
    end: () => parseLines(splitter.end()),
  };
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
