// What the survey remembers of the records it checked (`.offload/survey.journal`), written so that a
// run added or changed costs the next survey one appended entry, not a rewrite of every run's: a store
// of thousands of runs rewrote its whole cache (~0.6 MB a thousand runs) after each new run.
//
// The file is a list of `{"id", "key", "record"}` entries, each written as one line ending in a comma
// (JSON never holds a raw newline): read back whole as one JSON array, the last entry of an id wins. An
// entry torn by a crash or two offloads appending at once costs only itself. When most lines are stale
// (changed or removed runs), the survey rewrites the file with only the live entries, whole or not at
// all, so its size stays within a small multiple of the store's.
import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { RunRecord } from "./record.js";

export interface JournalEntry {
  id: string;
  /** The run.json the record was read from: inode, size and mtime. */
  key: string;
  record: RunRecord;
}

/** The first line: a journal written by another version of this code is not read. */
const HEADER = `${JSON.stringify({ version: 2 })},\n`;

export interface Journal {
  /** The latest entry of each run. */
  entries: Map<string, JournalEntry>;
  /** Lines in the file, the header aside (stale ones too): what a rewrite would drop. */
  lines: number;
}

function isEntry(value: unknown): value is JournalEntry {
  const entry = value as Partial<JournalEntry> | null;
  return (
    typeof entry === "object" &&
    entry !== null &&
    typeof entry.id === "string" &&
    typeof entry.key === "string" &&
    typeof entry.record === "object" &&
    entry.record !== null
  );
}

/** Each line alone, for a file one JSON.parse refused (a torn line): the good ones still count. */
function parseLines(text: string): unknown[] {
  const values: unknown[] = [];
  for (const line of text.split("\n").slice(1)) {
    try {
      values.push(JSON.parse(line.replace(/,$/, "")));
    } catch {
      // a torn entry: that run is read again
    }
  }
  return values;
}

/** The journal at `path`; an empty one when it is missing, unreadable or another version's. */
export function readJournal(path: string): Journal {
  const entries = new Map<string, JournalEntry>();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { entries, lines: 0 };
  }
  if (!text.startsWith(HEADER)) return { entries, lines: 0 };
  let values: unknown[];
  try {
    // One parse of the whole file: a thousand parses of a line each cost twice as much.
    values = JSON.parse(`[${text.slice(HEADER.length)}0]`) as unknown[];
    values.pop();
  } catch {
    values = parseLines(text);
  }
  for (const value of values) if (isEntry(value)) entries.set(value.id, value);
  return { entries, lines: values.length };
}

function line(entry: JournalEntry): string {
  return `${JSON.stringify(entry)},\n`;
}

/**
 * Brings the journal up to date with a survey: appends the entries of runs read since, or rewrites it
 * with only the live ones once stale lines outnumber them. Best effort: a journal that cannot be written
 * costs the next survey reads, never the survey's answer.
 */
export function updateJournal(
  path: string,
  journal: Journal,
  live: ReadonlyMap<string, JournalEntry>,
  added: readonly JournalEntry[],
): void {
  const lines = journal.lines + added.length;
  try {
    if ((journal.lines === 0 && live.size > 0) || lines > 2 * live.size + 64) {
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, HEADER + [...live.values()].map(line).join(""));
      renameSync(temp, path);
      // The cache of earlier versions, rewritten whole after each run: no longer read.
      rmSync(path.replace(/\.journal$/, ".json"), { force: true });
    } else if (added.length > 0) appendFileSync(path, added.map(line).join(""));
  } catch {
    // read-only project, full disk: the survey still answered
  }
}
