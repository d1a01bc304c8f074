// `ps` tells the truth: asks each host that has runs recorded as running how they stand (one round trip
// a host, all hosts at once, a short timeout) and settles the records of runs that ended while no
// offload followed them (--no-wait, --force, a second Ctrl+C, a crash).
import { RUN_ID_PATTERN } from "../remote/layout.js";
import { buildRunStatusScript, type HostRunState, parseRunStatus } from "../remote/status.js";
import { type RunRecord, statusForExit } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import type { Transport } from "../transport/types.js";
import { recordTimes } from "./complete.js";
import { refreshSlurmRuns } from "./slurm-refresh.js";

export interface RefreshRequest {
  store: RunStore;
  records: readonly RunRecord[];
  /** The transport to a record's host; may throw (a host the settings cannot resolve any more). */
  transportFor: (record: RunRecord) => Promise<Transport>;
  timeoutMs: number;
}

/** Runs whose state the host could not tell, with why, by run id. */
export type Unknown = Map<string, string>;

/** Asks the hosts and saves what they say; returns the runs that stay unknown. */
export async function refreshRuns(request: RefreshRequest): Promise<Unknown> {
  const unknown: Unknown = new Map();
  const byHost = new Map<string, RunRecord[]>();
  const slurm: RunRecord[] = [];
  for (const record of request.records) {
    if (record.status !== "running" && record.status !== "launching") continue;
    if (!RUN_ID_PATTERN.test(record.id)) {
      unknown.set(record.id, "its record holds no valid run id");
      continue;
    }
    if (record.slurm !== undefined) {
      // Its state is Slurm's, not a launcher's: the run protocol's status would call it lost.
      slurm.push(record);
      continue;
    }
    const key = `${record.target.kind} ${record.target.label}`;
    byHost.set(key, [...(byHost.get(key) ?? []), record]);
  }
  await Promise.all([
    refreshSlurmRuns(request.store, slurm, request.transportFor, unknown),
    ...[...byHost.values()].map(async (records) => {
      const why = await askHost(request, records, unknown).catch((error: unknown) =>
        error instanceof Error ? error.message : String(error),
      );
      if (typeof why === "string") for (const record of records) unknown.set(record.id, why);
    }),
  ]);
  return unknown;
}

async function askHost(
  request: RefreshRequest,
  records: RunRecord[],
  unknown: Unknown,
): Promise<void> {
  const [first] = records;
  if (first === undefined) return;
  const transport = await request.transportFor(first);
  const script = buildRunStatusScript(
    records.map((r) => ({ remoteDir: r.target.remoteDir, runId: r.id })),
  );
  const result = await transport.exec(script, { timeoutMs: request.timeoutMs });
  const states = parseRunStatus(result.stdout);
  if (states.size === 0) {
    if (result.connectionFailed) throw transport.explain(result);
    const last = result.stderr.trim().split("\n").at(-1);
    throw new Error(
      last ? last : `${transport.label} gave no answer within ${request.timeoutMs / 1000} s`,
    );
  }
  for (const record of records) {
    const state = states.get(record.id);
    if (state?.state === "missing")
      unknown.set(
        record.id,
        `it is not in ${record.target.remoteDir} on ${transport.label} any more (its remote dir was removed or replaced)`,
      );
    else if (state) await settle(request.store, record, state);
  }
}

/**
 * Records what the host says of a run recorded as running. Re-read first: an offload following the run
 * may have just recorded its end (with downloads), which must not be overwritten.
 */
async function settle(store: RunStore, shown: RunRecord, state: HostRunState): Promise<void> {
  if (state.state === "running" || state.state === "missing") return;
  const record = await store.load(shown.id);
  if (record.status !== "running" && record.status !== "launching") {
    Object.assign(shown, record);
    return;
  }
  if (state.state === "lost") {
    record.status = "lost";
  } else {
    record.exitCode = state.code;
    if (state.displacedBy !== undefined && RUN_ID_PATTERN.test(state.displacedBy))
      record.displacedBy = state.displacedBy;
    const stopped = record.stopRequested || record.displacedBy !== undefined;
    record.status =
      state.code === null
        ? "lost"
        : stopped && state.code !== 0
          ? "stopped"
          : statusForExit(state.code);
    const { startedMs, endedMs } = state;
    recordTimes(record, {
      ...(startedMs === undefined ? {} : { startedMs }),
      ...(endedMs === undefined ? {} : { endedMs }),
    });
  }
  await store.save(record);
  Object.assign(shown, record);
}
