// `offload attach RUN` of a job across nodes (one started with --no-wait, or whose offload was left):
// every live node followed again at once, and the job held together as `run` holds it — the first
// node to fail, to be lost or to be stopped stops all the others; a node found already failed stops
// them at once. The job's end is the first failure's, else node 0's.
import type { RunContext, RunControls } from "../context.js";
import type { Reporter } from "../events.js";
import type { RunRecord } from "../runs/record.js";
import { attachRun } from "./attach.js";
import type { NodeTarget } from "./nodes.js";
import { type NodesResult, relayUserStop, settleNodes } from "./nodes-end.js";
import { isLive } from "./run-set.js";

export interface AttachNodesRequest {
  /** Node k's context (its host's settings and transport), by rank. */
  nodes: readonly NodeTarget[];
  /** Node k's run record, by rank. */
  records: readonly RunRecord[];
  reportFor: (node: number) => Reporter;
  controls?: RunControls;
}

function failedNode(record: RunRecord): boolean {
  return !isLive(record) && record.status !== "succeeded";
}

export async function attachNodes(request: AttachNodesRequest): Promise<NodesResult> {
  const stopAll = new AbortController();
  let first: { record?: RunRecord; error?: unknown } | undefined;
  const fail = (rank: number, end: { record?: RunRecord; error?: unknown }) => {
    if (first === undefined && !stopAll.signal.aborted)
      request.reportFor(rank)(
        end.record === undefined
          ? {
              type: "nodes-stopping",
              error: end.error instanceof Error ? end.error.message : String(end.error),
            }
          : { type: "nodes-stopping", status: end.record.status, exitCode: end.record.exitCode },
      );
    first ??= end;
    stopAll.abort();
  };
  // A node that ended failed while nobody followed already decides the job.
  request.records.forEach((record, rank) => {
    if (failedNode(record)) fail(rank, { record });
  });
  const stoppedByUser = relayUserStop(request.controls?.stop, stopAll, () => first !== undefined);
  const runs = request.records.map(async (record, rank): Promise<RunRecord> => {
    const node = request.nodes[rank];
    if (!isLive(record) || node === undefined) return record;
    const context: RunContext = {
      ...node,
      report: request.reportFor(rank),
      controls: { stop: stopAll.signal, detach: request.controls?.detach },
    };
    try {
      const end = await attachRun(context, { runId: record.id });
      if (failedNode(end)) fail(rank, { record: end });
      return end;
    } catch (error) {
      fail(rank, { error });
      throw error;
    }
  });
  const settled = await Promise.allSettled(runs);
  return settleNodes(settled, first, stoppedByUser());
}
