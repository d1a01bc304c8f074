// The one owner of a run's record while a command works on it: changes go through set()/update(),
// typed by the record's own fields, and the record it shows is deep-readonly, so the compiler refuses
// any other change. Saves are written in order (src/runs/store.ts), so the file always ends at the
// newest state.
import type { RecordView, RunRecord } from "./record.js";
import type { RunStore } from "./store.js";

/** Fields to set; `undefined` removes the field (an error cleared, a state left behind). */
export type RecordFields = {
  [K in Exclude<keyof RunRecord, "id" | "version">]?: RunRecord[K] | undefined;
};

export interface RecordWriter {
  /** The record as it stands; only set() and update() change it. */
  readonly record: RecordView;
  /** Applies the fields to the record now, and saves it. */
  update(fields: RecordFields): Promise<void>;
  /**
   * Applies the fields now, to be written by the next save: for a change the run saves at a later
   * point on purpose (a phase assembling its end, an attach saved with its follow's first save).
   */
  set(fields: RecordFields): void;
  /** Saves the record as it stands. */
  save(): Promise<void>;
  /** A copy of the record as it stands: what a command hands back to its caller. */
  snapshot(): RunRecord;
}

export function createRecordWriter(store: Pick<RunStore, "save">, record: RunRecord): RecordWriter {
  const set = (change: RecordFields) => applyFields(record, change);
  return {
    record,
    set,
    update(change) {
      set(change);
      return store.save(record);
    },
    save: () => store.save(record),
    snapshot: () => structuredClone(record),
  };
}

/**
 * Changes a stored record that no writer of this command holds (`ps` settling a run that ended
 * unfollowed, a machine's cost once it is gone): read afresh, `decide` returns the fields to set, or
 * undefined to leave it as it is. Returns the record as it now stands; undefined when there is none.
 */
export async function amendRecord(
  store: Pick<RunStore, "load" | "save">,
  id: string,
  decide: (record: RecordView) => RecordFields | undefined,
): Promise<RunRecord> {
  const record = await store.load(id);
  const change = decide(record);
  if (change === undefined) return record;
  applyFields(record, change);
  await store.save(record);
  return record;
}

function applyFields(record: RunRecord, change: RecordFields): void {
  const fields = record as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete fields[key];
    else fields[key] = value;
  }
}
