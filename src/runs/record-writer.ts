// The one owner of a run's record while a command works on it: changes go through update(), typed
// by the record's own fields, and each is saved (src/runs/store.ts writes a run's saves in order, so
// the file always ends at the newest state).
import type { RunRecord } from "./record.js";
import type { RunStore } from "./store.js";

/** Fields to set; `undefined` removes the field (an error cleared, a state left behind). */
export type RecordFields = {
  [K in Exclude<keyof RunRecord, "id" | "version">]?: RunRecord[K] | undefined;
};

export interface RecordWriter {
  /**
   * The record as it stands. A phase that assembles its part field by field (the end of a follow)
   * sets them here and then calls save(); whatever runs beside another phase uses update().
   */
  readonly record: RunRecord;
  /** Applies the fields to the record now, and saves it. */
  update(fields: RecordFields): Promise<void>;
  /** Saves the record as it stands (after changes made by a phase that owns a part of it). */
  save(): Promise<void>;
}

export function createRecordWriter(store: Pick<RunStore, "save">, record: RunRecord): RecordWriter {
  const fields = record as unknown as Record<string, unknown>;
  return {
    record,
    update(change) {
      for (const [key, value] of Object.entries(change)) {
        if (value === undefined) delete fields[key];
        else fields[key] = value;
      }
      return store.save(record);
    },
    save: () => store.save(record),
  };
}
