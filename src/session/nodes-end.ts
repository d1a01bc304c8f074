// How a job across nodes ends: the first failure's error or record, else node 0's; the event that says
// so; and the record of one node of a job (`logs --node K`).
import { OffloadError } from "../errors.js";
import type { RunEvent } from "../events.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";

export interface NodesResult {
  /** Every node's record, by rank. */
  records: RunRecord[];
  /** The record whose end is the job's: the first node to fail, else node 0. */
  decisive: RunRecord;
  /** The caller's stop (Ctrl+C) came before any node failed: every node ended because it was asked to. */
  stoppedByUser: boolean;
}

/**
 * The caller's stop relayed to the job's `stopAll`, and whether it was the user's: a stop that came
 * while no node had failed yet (`failed` says whether one had). The nodes it stops end "stopped", and
 * the first of them to end must not read as the node that ended the job.
 */
export function relayUserStop(
  userStop: AbortSignal | undefined,
  stopAll: AbortController,
  failed: () => boolean,
): () => boolean {
  let byUser = false;
  const relay = () => {
    byUser = !failed() && !stopAll.signal.aborted;
    stopAll.abort();
  };
  if (userStop?.aborted) relay();
  else userStop?.addEventListener("abort", relay, { once: true });
  return () => byUser;
}

/** A node whose run ended in anything but success (a --no-wait node still running has not failed). */
export function failedNode(record: RunRecord): boolean {
  return record.status !== "succeeded" && record.status !== "running";
}

/** The job's end from every node's: the first failure's error or record, else node 0's. */
export function settleNodes(
  settled: readonly PromiseSettledResult<RunRecord>[],
  first: { record?: RunRecord; error?: unknown } | undefined,
  stoppedByUser = false,
): NodesResult {
  if (first?.error !== undefined) throw first.error;
  const records = settled.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
  const decisive = first?.record ?? records[0];
  if (decisive === undefined) throw new Error("a job across nodes needs at least one node");
  return { records, decisive, stoppedByUser };
}

/** The `nodes-ended` event of a job whose nodes have all ended. */
export function describeNodesEnd({ records, decisive, stoppedByUser }: NodesResult): RunEvent {
  return {
    type: "nodes-ended",
    succeeded: decisive.status === "succeeded",
    ...(stoppedByUser ? { stoppedByUser: true } : {}),
    nodes: records.map((r) => ({
      node: r.group?.node ?? null,
      runId: r.id,
      status: r.status,
      exitCode: r.exitCode,
    })),
    decisive: {
      node: decisive.group?.node ?? 0,
      target: decisive.target.label,
      runId: decisive.id,
    },
  };
}

/** The record of node `node` of the job `record` belongs to (`logs --node K`). */
export async function findNodeRecord(
  store: RunStore,
  record: RunRecord,
  node: number,
): Promise<RunRecord> {
  const group = record.group;
  if (group === undefined)
    throw new OffloadError("E_USAGE", `Run ${record.id} ran on one host: it has no node ${node}.`, {
      hint: `\`offload logs ${record.id}\` prints its log.`,
    });
  const last = group.nodes.length - 1;
  if (node > last)
    throw new OffloadError(
      "E_USAGE",
      `Run ${record.id} is a job on ${group.nodes.length} nodes: it has nodes 0..${last}, not node ${node}.`,
      {
        hint: `Nodes count from 0: \`offload logs --node ${last} ${record.id}\` prints the last one's log (${group.nodes[last]}).`,
      },
    );
  const found = (await store.list()).find((r) => r.group?.id === group.id && r.group.node === node);
  if (found === undefined)
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `The job of run ${record.id} has no node ${node} recorded here (nodes 0..${last}).`,
      { hint: "`offload ps` lists the runs of this project." },
    );
  return found;
}
