// Reading run records back: one run.json checked (shape and id), and the survey of every run folder
// that `ps`, `report` and the dashboard list, kept fast for stores of thousands of runs by a journal of
// the records already checked (`.offload/survey.journal`), keyed by each run.json's inode, size and
// mtime.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { OffloadError } from "../errors.js";
import { isRunId } from "./id.js";
import type { RunRecord } from "./record.js";
import { type JournalEntry, readJournal, updateJournal } from "./survey-journal.js";

/** A run folder whose run.json cannot be trusted: listed, never used. */
export interface DamagedRun {
  id: string;
  problem: string;
}

export type RecordRead = { record: RunRecord } | { problem: string } | { missing: true };

type FindProblem = typeof import("./record-schema.js").findRecordProblem;

/**
 * The record schema (zod), loaded on the first record to check: building its schemas is most of the
 * CPU of a `ps` whose records all come from the survey's cache.
 */
async function loadChecker(): Promise<FindProblem> {
  return (await import("./record-schema.js")).findRecordProblem;
}

/** Checks one run.json's text: a record only when its shape and its id are right. */
function checkRecord(text: string, id: string, findRecordProblem: FindProblem): RecordRead {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { problem: `run.json is not valid JSON (${(error as Error).message})` };
  }
  const problem = findRecordProblem(data);
  if (problem !== undefined) return { problem: `run.json is not a run record (${problem})` };
  const record = data as RunRecord;
  if (record.id !== id) return { problem: `run.json names run ${record.id}, not ${id}` };
  return { record };
}

function unreadable(error: unknown): RecordRead {
  if ((error as NodeJS.ErrnoException).code === "ENOENT") return { missing: true };
  return { problem: `run.json cannot be read (${(error as Error).message})` };
}

/** Reads and checks one run.json. */
export async function readRecord(dir: string, id: string): Promise<RecordRead> {
  try {
    const text = await readFile(join(dir, "run.json"), "utf8");
    return checkRecord(text, id, await loadChecker());
  } catch (error) {
    return unreadable(error);
  }
}

export function damagedError(id: string, problem: string, dir: string): OffloadError {
  return new OffloadError("E_RUN_DAMAGED", `The record of run ${id} is damaged: ${problem}.`, {
    hint: `offload cannot trust it; look at ${join(dir, "run.json")}, or remove ${dir} if the run no longer matters.`,
  });
}

/** Folder names under runs/ that are run ids; anything else there is not offload's and is never used. */
export async function listIds(root: string): Promise<string[]> {
  return (await readdir(root).catch(() => [] as string[])).filter(isRunId).sort();
}

/**
 * Every run folder: the records that read well, and those whose run.json is damaged. A run.json whose
 * inode, size and mtime are those of a record checked before is that record (a save renames a new file
 * into place: a new inode); any other is read and checked, as is a damaged one every time. Adding a run
 * costs its save nothing; the survey pays one stat a run, a read for each one changed since, and one
 * appended entry in its journal for each of those (survey-journal.ts).
 */
export async function surveyRuns(
  root: string,
  journalPath: string,
): Promise<{ records: RunRecord[]; damaged: DamagedRun[] }> {
  let ids: string[];
  try {
    ids = readdirSync(root).filter(isRunId).sort();
  } catch {
    ids = [];
  }
  const journal = readJournal(journalPath);
  const live = new Map<string, JournalEntry>();
  const added: JournalEntry[] = [];
  const records: RunRecord[] = [];
  const damaged: DamagedRun[] = [];
  let check: FindProblem | undefined;
  // Synchronous calls: a thousand small reads through the thread pool cost ten times as much.
  for (const id of ids) {
    // Not path.join: a thousand of them cost ~7 ms of a `ps` (interpreted, cold); the root is already
    // normal and an id is a plain folder name.
    const path = `${root}/${id}/run.json`;
    let read: RecordRead;
    let key = "";
    let hit: JournalEntry | undefined;
    try {
      const stat = statSync(path);
      key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      hit = journal.entries.get(id);
      if (hit !== undefined && hit.key === key) read = { record: hit.record };
      else {
        hit = undefined;
        const text = readFileSync(path, "utf8");
        check ??= await loadChecker();
        read = checkRecord(text, id, check);
      }
    } catch (error) {
      read = unreadable(error);
    }
    if ("record" in read) {
      records.push(read.record);
      const entry = hit ?? { id, key, record: read.record };
      live.set(id, entry);
      if (hit === undefined) added.push(entry);
    } else if ("problem" in read) damaged.push({ id, problem: read.problem });
  }
  updateJournal(journalPath, journal, live, added);
  return { records, damaged };
}
