// The run of a machine whose offload died: once a later command deletes the machine (or finds it gone),
// nothing will ever follow or end that run, so its record is ended here, `lost` with why, instead of
// staying `launching` or `running` for ever.
import { amendRecord } from "../runs/record-writer.js";
import { openRunStore } from "../runs/store.js";
import type { LedgerEntry } from "./ledger.js";

export interface EndedRun {
  id: string;
  projectDir: string;
  why: string;
}

/** Ends the record of the run `entry` was made for when it is still live; returns it, or undefined. */
export async function endRunOfDeletedMachine(entry: LedgerEntry): Promise<EndedRun | undefined> {
  const run = entry.run;
  if (run === undefined) return undefined;
  let why = "";
  const record = await amendRecord(openRunStore(run.projectDir), run.id, (stored) => {
    if (stored.status !== "launching" && stored.status !== "running") return undefined;
    // Whether a job had started there is not known here (a kill -9 mid-launch): the message says both.
    why = `the offload that ran it (pid ${entry.owner.pid}) ended before the run did; a later command deleted its machine ${entry.tag}, and whatever the run had started there with it`;
    return {
      status: "lost",
      finishedAt: new Date().toISOString(),
      error: { code: "E_RUN_LOST", message: why },
    };
  }).catch(() => undefined);
  // No record (the run never got that far, its project moved or removed): nothing to end.
  return record === undefined || why === "" ? undefined : { ...run, why };
}
