// What `offload stop X` and `offload attach X` act on: one run, the runs of a job across nodes (any
// node's run names the job), or the runs of a sweep (its id). A run id or name wins over a sweep id.
import { isOffloadError } from "../errors.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import { findPlannedSweeps } from "../runs/sweep-plan.js";
import { findSweepRuns, SWEEP_TAG } from "./sweep-runs.js";

export type RunSet =
  | { kind: "run"; record: RunRecord }
  /** Every node's run of one job, by rank. */
  | { kind: "nodes"; groupId: string; records: RunRecord[] }
  /** Every run of a sweep this machine recorded, in grid order. */
  | { kind: "sweep"; sweepId: string; records: RunRecord[] };

export function isLive(record: RunRecord): boolean {
  return record.status === "running" || record.status === "launching";
}

export async function resolveRunSet(store: RunStore, id: string | undefined): Promise<RunSet> {
  let record: RunRecord;
  try {
    record = await store.load(await store.resolveId(id));
  } catch (error) {
    if (id === undefined || !isOffloadError(error) || error.code !== "E_RUN_NOT_FOUND") throw error;
    // Only an id no run matches can be a sweep's: `2026` matching many runs stays an error, not a stop
    // of the one sweep whose id it also starts.
    const all = await store.list();
    if (all.some((r) => r.id.startsWith(id) || r.id.endsWith(id))) throw error;
    const runs = await findSweepRuns(store, id);
    const sweepId = runs[0]?.tags?.[SWEEP_TAG];
    if (sweepId !== undefined) return { kind: "sweep", sweepId, records: runs };
    // A sweep whose offload was killed before any of its runs was recorded: its plan names it.
    const [planned, ...others] = await findPlannedSweeps(store, id);
    if (planned === undefined || others.length > 0) throw error;
    return { kind: "sweep", sweepId: planned, records: [] };
  }
  const group = record.group;
  if (group === undefined) return { kind: "run", record };
  const records = (await store.list())
    .filter((r) => r.group?.id === group.id)
    .sort((a, b) => (a.group?.node ?? 0) - (b.group?.node ?? 0));
  return { kind: "nodes", groupId: group.id, records };
}
