// How an ended run's record reads, shared by the run's own end (complete.ts) and `ps` settling a run
// nobody followed (refresh.ts). Kept apart from complete.ts, whose follow and download pull in every
// transport: `ps` of a store of finished runs loads none of them (child_process alone is ~6 ms).
import type { HostTimes } from "../remote/markers.js";
import type { RecordView, RunRecord } from "../runs/record.js";
import { planDownloads } from "../sync/download-plan.js";

/** The record's times from the host's stamps; without them (an older launcher) the end is when we saw it. */
export function recordTimes(
  record: Pick<RecordView, "job" | "finishedAt">,
  times: HostTimes | undefined,
): Pick<RunRecord, "job" | "finishedAt"> {
  const iso = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(ms).toISOString();
  const started = iso(times?.startedMs);
  const ended = iso(times?.endedMs);
  const job =
    started !== undefined || ended !== undefined
      ? {
          ...record.job,
          ...(started === undefined ? {} : { startedAt: started }),
          ...(ended === undefined ? {} : { endedAt: ended }),
        }
      : record.job;
  return {
    ...(job === undefined ? {} : { job }),
    // Attaching again to a run that has ended must not move its end.
    finishedAt: ended ?? record.finishedAt ?? new Date().toISOString(),
  };
}

/**
 * Whether an ended run has outputs to bring home: download rules, or results its host puts in a bucket
 * (a lost host has none to push).
 */
export function hasOutputs(record: RecordView): boolean {
  if (record.results !== undefined) return record.status !== "lost";
  const plan = planDownloads(record.download);
  return plan.globs.length + plan.mapped.length > 0;
}
