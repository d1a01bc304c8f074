// `ps` for runs submitted to Slurm: Slurm, not a launcher, knows how they stand. Each is asked with one
// round trip to its login node (squeue, then scontrol/sacct for an ended job); ended ones are settled.
import { SlurmBackend } from "../backends/slurm/backend.js";
import { exitCodeOf } from "../backends/slurm/parse.js";
import { isActiveState, type SlurmJobStatus } from "../backends/slurm/types.js";
import type { RunRecord } from "../runs/record.js";
import { statusForExit } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import type { Transport } from "../transport/types.js";

export async function refreshSlurmRuns(
  store: RunStore,
  records: readonly RunRecord[],
  transportFor: (record: RunRecord) => Promise<Transport>,
  unknown: Map<string, string>,
): Promise<void> {
  await Promise.all(
    records.map(async (record) => {
      const jobId = record.slurm?.jobId;
      if (jobId === undefined) return;
      try {
        const status = await new SlurmBackend(await transportFor(record)).status(jobId);
        if (status.state === "UNKNOWN") {
          unknown.set(record.id, `Slurm no longer knows job ${jobId} (its accounting kept no end)`);
          return;
        }
        await settle(store, record, status);
      } catch (error) {
        unknown.set(record.id, error instanceof Error ? error.message : String(error));
      }
    }),
  );
}

/** Records what Slurm says; re-read first, so an end an offload following the run saved stays. */
async function settle(store: RunStore, shown: RunRecord, status: SlurmJobStatus): Promise<void> {
  const record = await store.load(shown.id);
  if (record.status !== "running" && record.status !== "launching") {
    Object.assign(shown, record);
    return;
  }
  record.slurm = {
    jobId: status.jobId,
    state: status.state,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.nodes === undefined ? {} : { nodes: status.nodes }),
  };
  if (!isActiveState(status.state)) {
    const code = exitCodeOf(status);
    record.exitCode = code ?? null;
    record.status =
      code === undefined
        ? "lost"
        : record.stopRequested && status.state === "CANCELLED"
          ? "stopped"
          : statusForExit(code);
    record.finishedAt ??= new Date().toISOString();
  }
  await store.save(record);
  Object.assign(shown, record);
}
