// How an ended attempt is kept in the run's record, and the fields a fresh attempt starts from.
import type { RecordView, RunRecord } from "../runs/record.js";
import type { RecordFields } from "../runs/record-writer.js";

/** How an attempt ended, as the record keeps it once the next one starts. */
export function attemptEntry(
  record: RecordView,
  attempt: number,
  log: string,
  message: string | undefined,
): NonNullable<RunRecord["attempts"]>[number] {
  return {
    attempt,
    status: record.status,
    exitCode: record.exitCode,
    finishedAt: record.finishedAt ?? new Date().toISOString(),
    log,
    ...(message ? { error: { code: "E_DISCONNECTED", message } } : {}),
  };
}

/** The record as a fresh attempt starts: the last one's end is in `attempts`. */
export const FRESH_ATTEMPT: RecordFields = {
  status: "launching",
  exitCode: null,
  logBytes: 0,
  error: undefined,
  finishedAt: undefined,
  job: undefined,
  remote: undefined,
};
