// `ps` tells the truth: asks each host that has runs recorded as running how they stand (one round trip
// a host where its backend can, all hosts at once, a short timeout) and settles the records of runs that
// ended while no offload followed them (--no-wait, --force, a second Ctrl+C, a crash).
import { type Backend, type JobSurvey, jobRefOf } from "../backends/types.js";
import { RUN_ID_PATTERN } from "../remote/layout.js";
import { type RecordView, type RunRecord, statusForExit } from "../runs/record.js";
import { amendRecord, type RecordFields } from "../runs/record-writer.js";
import type { RunStore } from "../runs/store.js";
import { hasOutputs, recordTimes } from "./record-end.js";

export interface RefreshRequest {
  store: RunStore;
  records: readonly RunRecord[];
  /** How jobs run on a record's host; may throw (a host the settings cannot resolve any more). */
  backendFor: (record: RunRecord) => Promise<Backend>;
  timeoutMs: number;
}

/** Runs whose state the host could not tell, with why, by run id. */
export type Unknown = Map<string, string>;

export interface Refreshed {
  /** The request's records in its order, each settled one as it now stands. */
  records: RunRecord[];
  unknown: Unknown;
}

/** Asks the hosts and saves what they say; returns the records as they now stand, and those unknown. */
export async function refreshRuns(request: RefreshRequest): Promise<Refreshed> {
  const unknown: Unknown = new Map();
  const settled = new Map<string, RunRecord>();
  const byHost = new Map<string, RunRecord[]>();
  for (const record of request.records) {
    if (record.status !== "running" && record.status !== "launching") continue;
    if (!RUN_ID_PATTERN.test(record.id)) {
      unknown.set(record.id, "its record holds no valid run id");
      continue;
    }
    const key = `${record.target.kind} ${record.target.name ?? ""} ${record.target.label} ${record.target.sshConfig ?? ""}`;
    byHost.set(key, [...(byHost.get(key) ?? []), record]);
  }
  await Promise.all(
    [...byHost.values()].map(async (records) => {
      const why = await askHost(request, records, { unknown, settled }).catch((error: unknown) =>
        error instanceof Error ? error.message : String(error),
      );
      if (typeof why === "string") for (const record of records) unknown.set(record.id, why);
    }),
  );
  return { records: request.records.map((r) => settled.get(r.id) ?? r), unknown };
}

async function askHost(
  request: RefreshRequest,
  records: RunRecord[],
  found: { unknown: Unknown; settled: Map<string, RunRecord> },
): Promise<void> {
  const [first] = records;
  if (first === undefined) return;
  const backend = await request.backendFor(first);
  const surveyed = await backend.survey(records.map(jobRefOf), { timeoutMs: request.timeoutMs });
  for (const record of records) {
    const survey = surveyed.get(record.id);
    if (survey?.state === "unknown") found.unknown.set(record.id, survey.why);
    else if (survey) found.settled.set(record.id, await settle(request.store, record, survey));
  }
}

/**
 * Records what the host says of a run recorded as running. Re-read first: an offload following the run
 * may have just recorded its end (with downloads), which must not be overwritten. Returns the record as
 * it now stands.
 */
async function settle(
  store: RunStore,
  shown: RunRecord,
  survey: Exclude<JobSurvey, { state: "unknown" }>,
): Promise<RunRecord> {
  if (survey.state === "running" && survey.job === undefined) return shown;
  return amendRecord(store, shown.id, (stored) =>
    stored.status === "running" || stored.status === "launching"
      ? settledFields(stored, survey)
      : undefined,
  );
}

/** What the host's word changes in a record still running: its job, and how it ended. */
function settledFields(
  record: RecordView,
  survey: Exclude<JobSurvey, { state: "unknown" }>,
): RecordFields {
  const job = survey.job ?? {};
  if (survey.state === "lost") {
    const lost = { ...job, status: "lost" as const };
    return hasOutputs({ ...record, ...lost }) ? { ...lost, outputsPending: true } : lost;
  }
  // A record left `launching` whose job the backend found (Slurm: its id in the run dir) is running.
  if (survey.state !== "ended")
    return record.status === "launching" && survey.job !== undefined
      ? { ...job, status: "running" }
      : job;
  const displacedBy =
    survey.displacedBy !== undefined && RUN_ID_PATTERN.test(survey.displacedBy)
      ? survey.displacedBy
      : undefined;
  const stopped =
    record.stopRequested ||
    survey.cancelled === true ||
    (displacedBy ?? record.displacedBy) !== undefined;
  const status =
    survey.code === null
      ? "lost"
      : stopped && survey.code !== 0
        ? "stopped"
        : statusForExit(survey.code);
  const ended = { ...job, exitCode: survey.code, status };
  return {
    ...ended,
    ...(displacedBy === undefined ? {} : { displacedBy }),
    // Nobody followed it to its end, so nobody brought its outputs home: `attach` does.
    ...(hasOutputs({ ...record, ...ended }) ? { outputsPending: true } : {}),
    ...recordTimes(record, survey.times),
  };
}
