// One job across several SSH hosts (`--host a,b,c`, `nodes: [a, b, c]`): a run per node, each with its
// own lock, sync, env, launch, follow and record, held together by two barriers (every lock taken
// before any byte changes; every node ready before any starts) and by one stop: the first node to
// fail, to be lost or to be stopped stops all the others. The job's end is the first failure's.
import { setMaxListeners } from "node:events";
import { buildNodeEnv } from "../backends/nodes/contract.js";
import type { RunContext, RunControls } from "../context.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { createRunId } from "../runs/new-id.js";
import type { RunRecord } from "../runs/record.js";
import type { Transport } from "../transport/types.js";
import type { HeldLaunch } from "./held-launch.js";
import { Barrier } from "./nodes-barrier.js";
import { failedNode, type NodesResult, relayUserStop, settleNodes } from "./nodes-end.js";
import { type NodeReach, readLayout, readReached } from "./nodes-layout.js";
import { explainSiblingLock } from "./nodes-refusal.js";
import { createNodesShare, type NodesShare } from "./nodes-share.js";
import { type RunRequest, runJob } from "./run.js";
import { recordStoppedRun, signalRun } from "./stop-run.js";

/** What a node's runJob calls at the two barriers; `group` goes into its record. */
export interface NodeHooks {
  group: { id: string; node: number; nodes: string[] };
  /** The node's run id, chosen here so a lock held by a sibling node is told from another run's. */
  runId: string;
  /**
   * The node holds its lock on the host reached by `transport` (a cloud machine's, made for this node)
   * at address `reached` (its prepare said which), its prepare's connection `held` for its steps (node
   * 0's rendezvous question goes down it); resolves once every node does (rejects when one was refused).
   */
  locked: (transport: Transport, reached: string, held?: HeldLaunch) => Promise<void>;
  /** The node is synced and its env built; resolves with its torchrun contract once all are. */
  ready: () => Promise<Record<string, string>>;
  /** What the nodes do once for all (the workspace's listing and archive, its git state). */
  share: NodesShare;
}

/** A node is the context of a run on its host; all share one store. */
export type NodeTarget = RunContext;

export interface NodesRequest {
  command: string[];
  nodes: readonly NodeTarget[];
  /** The reporter of node `k`'s events (the CLI prefixes its lines with `[nk]`). */
  reportFor: (node: number) => Reporter;
  name?: string;
  tags?: Record<string, string>;
  workdir?: string;
  force?: boolean;
  secrets?: RunRequest["secrets"];
  rebuildEnv?: boolean;
  controls?: RunControls;
  /** Start every rank and return: nothing follows the job, `attach` of any node's run does later. */
  noWait?: boolean;
}

/** Another node failed first: this node's own error is only a consequence. */
class NodeAbandoned extends OffloadError {}

/** Runs the command once per node with torchrun's contract; returns when every node has ended. */
export async function runOnNodes(request: NodesRequest): Promise<NodesResult> {
  const { nodes } = request;
  const count = nodes.length;
  const labels = nodes.map((node) => node.transport.label);
  const groupId = createRunId();
  const runIds = nodes.map(() => createRunId());
  const stopAll = new AbortController();
  const detach = relayDetach(request.controls?.detach);
  // Every node's phases listen on these signals (a follow each, the whole run long): 16 nodes passed
  // Node's leak warning's 10 listeners, printed on the terminal, though none leaks.
  setMaxListeners(0, stopAll.signal, detach.signal);
  let first: { node: number; record?: RunRecord; error?: unknown } | undefined;
  const stoppedByUser = relayUserStop(request.controls?.stop, stopAll, () => first !== undefined);

  const locked = new Barrier<string>(count);
  const ready = new Barrier<void>(count);
  const abandon = (node: number) =>
    new NodeAbandoned(
      "E_LAUNCH",
      `node ${node} (${labels[node]}) failed before the job started; nothing was started on any node`,
    );
  // Node 0's address toward the others and a free port there: asked once, when all are locked.
  // Asked on the hosts the nodes reached: a cloud target's node is a machine made for it.
  const reachedBy: NodeReach[] = [];
  let layout: Promise<Record<string, string>[]> | undefined;
  const contract = (addresses: string[]) => {
    layout ??= readLayout(nodes, reachedBy, addresses).then((found) =>
      nodes.map((_, rank) => buildNodeEnv(found, rank)),
    );
    return layout;
  };

  const share = createNodesShare();
  const runs = nodes.map(async (node, rank): Promise<RunRecord> => {
    let addresses: string[] = [];
    const hooks: NodeHooks = {
      group: { id: groupId, node: rank, nodes: labels },
      runId: runIds[rank] ?? createRunId(),
      share,
      locked: async (transport, reached, held) => {
        reachedBy[rank] = { transport, held };
        addresses = await locked.arrive(rank, readReached(reached));
        // Asked now, beside the syncs: the rendezvous' round trip is then off the way to the launch.
        contract(addresses).catch(() => {});
      },
      ready: async () => {
        await ready.arrive(rank, undefined);
        return (await contract(addresses))[rank] ?? {};
      },
    };
    try {
      const context: RunContext = {
        ...node,
        report: request.reportFor(rank),
        controls: { stop: stopAll.signal, detach: detach.signal },
      };
      const record = await runJob(context, {
        command: request.command,
        node: hooks,
        ...(request.secrets === undefined ? {} : { secrets: request.secrets }),
        ...(request.rebuildEnv === undefined ? {} : { rebuildEnv: request.rebuildEnv }),
        ...(request.name === undefined ? {} : { name: request.name }),
        ...(request.tags === undefined ? {} : { tags: request.tags }),
        ...(request.workdir === undefined ? {} : { workdir: request.workdir }),
        ...(request.force === undefined ? {} : { force: request.force }),
        ...(request.noWait === undefined ? {} : { noWait: request.noWait }),
      });
      if (failedNode(record)) {
        if (first === undefined && !stopAll.signal.aborted)
          request.reportFor(rank)({
            type: "nodes-stopping",
            status: record.status,
            exitCode: record.exitCode,
          });
        first ??= { node: rank, record };
        stopAll.abort();
      }
      return record;
    } catch (caught) {
      const error = explainSiblingLock(caught, rank, runIds, labels);
      if (!(error instanceof NodeAbandoned)) {
        if (first === undefined && !stopAll.signal.aborted)
          request.reportFor(rank)({
            type: "nodes-stopping",
            error: error instanceof Error ? error.message : String(error),
          });
        first ??= { node: rank, error };
      }
      const why = abandon(rank);
      locked.fail(why);
      ready.fail(why);
      stopAll.abort();
      throw error;
    }
  });
  const settled = await Promise.allSettled(runs);
  // Without a follower nothing stops the ranks that did start when another failed to: stop them now.
  if (request.noWait && first !== undefined)
    await Promise.all(
      settled.map(async (result, rank) => {
        const node = nodes[rank];
        if (result.status === "rejected" || node === undefined || failedNode(result.value)) return;
        await signalRun(node, result.value).catch(() => undefined);
        await recordStoppedRun(node, result.value.id).catch(() => undefined);
      }),
    );
  return settleNodes(settled, first, stoppedByUser());
}

/** The caller's leave signal (a second Ctrl+C, a closed stdout) relayed, reason and all, to one of the job's. */
function relayDetach(leave: AbortSignal | undefined): AbortController {
  const detach = new AbortController();
  if (leave?.aborted) detach.abort(leave.reason);
  else leave?.addEventListener("abort", () => detach.abort(leave.reason), { once: true });
  return detach;
}
