// A sweep's runs as the store has them: what `report SWEEP`, `attach SWEEP` and `stop SWEEP` read. Apart
// from sweep.ts, which starts runs (and so loads every transport): `report` of finished runs loads none.
import { OffloadError } from "../errors.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";

/** The tag that names a run's sweep. */
export const SWEEP_TAG = "sweep";

/** The runs of sweep `id` (its full id or a unique start of it), in grid order. */
export async function findSweepRuns(store: RunStore, id: string): Promise<RunRecord[]> {
  const runs = (await store.list()).filter((r) => r.tags?.[SWEEP_TAG]?.startsWith(id));
  const sweeps = new Set(runs.map((r) => r.tags?.[SWEEP_TAG]));
  if (sweeps.size > 1)
    throw new OffloadError("E_USAGE", `${id} starts the ids of ${sweeps.size} sweeps.`, {
      hint: `Give more of it: ${[...sweeps].join(", ")}.`,
    });
  return runs;
}
