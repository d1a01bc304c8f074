// One job across several SSH hosts (`--host a,b,c`, `nodes: [a, b, c]`): a run per node, each with its
// own lock, sync, env, launch, follow and record, held together by two barriers (every lock taken
// before any byte changes; every node ready before any starts) and by one stop: the first node to
// fail, to be lost or to be stopped stops all the others. The job's end is the first failure's.
import { setMaxListeners } from "node:events";
import {
  buildMasterScript,
  buildNodeEnv,
  isNodeAddress,
  NODE_MARK,
  readNodeMark,
} from "../backends/nodes/contract.js";
import type { RunContext, RunControls } from "../context.js";
import { OffloadError } from "../errors.js";
import type { Reporter, RunEvent } from "../events.js";
import { createRunId } from "../runs/id.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import type { Transport } from "../transport/types.js";
import { RemoteDirLocked } from "./lock.js";
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
   * at address `reached` (its prepare said which); resolves once every node does (rejects when one
   * was refused).
   */
  locked: (transport: Transport, reached: string) => Promise<void>;
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

export interface NodesResult {
  /** Every node's record, by rank. */
  records: RunRecord[];
  /** The record whose end is the job's: the first node to fail, else node 0. */
  decisive: RunRecord;
}

/** Another node failed first: this node's own error is only a consequence. */
class NodeAbandoned extends OffloadError {}

/** Waits until all `size` parties arrived, each with a value; fails every waiter at the first failure. */
class Barrier<T> {
  readonly #values: T[] = [];
  #arrived = 0;
  readonly #done: Promise<T[]>;
  #resolve!: (values: T[]) => void;
  #reject!: (error: Error) => void;

  constructor(readonly size: number) {
    this.#done = new Promise<T[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#done.catch(() => {});
  }

  arrive(index: number, value: T): Promise<T[]> {
    this.#values[index] = value;
    this.#arrived += 1;
    if (this.#arrived === this.size) this.#resolve([...this.#values]);
    return this.#done;
  }

  fail(error: Error): void {
    this.#reject(error);
  }
}

function failedNode(record: RunRecord): boolean {
  return record.status !== "succeeded" && record.status !== "running";
}

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
  const userStop = request.controls?.stop;
  if (userStop?.aborted) stopAll.abort();
  else userStop?.addEventListener("abort", () => stopAll.abort(), { once: true });

  const locked = new Barrier<string>(count);
  const ready = new Barrier<void>(count);
  let first: { node: number; record?: RunRecord; error?: unknown } | undefined;
  const abandon = (node: number) =>
    new NodeAbandoned(
      "E_LAUNCH",
      `node ${node} (${labels[node]}) failed before the job started; nothing was started on any node`,
    );
  // Node 0's address toward the others and a free port there: asked once, when all are locked.
  // Asked on the hosts the nodes reached: a cloud target's node is a machine made for it.
  const reachedBy: Transport[] = [];
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
      locked: async (transport, reached) => {
        reachedBy[rank] = transport;
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
  return settleNodes(settled, first);
}

/**
 * A node refused by the lock of another node of this same job: two host names (ssh aliases, a name and
 * its address) reach one machine and one remote dir. Waiting or `--force` cannot help; each node needs a
 * remote dir of its own there.
 */
function explainSiblingLock(
  error: unknown,
  rank: number,
  runIds: readonly string[],
  labels: readonly string[],
): unknown {
  if (!(error instanceof RemoteDirLocked)) return error;
  const sibling = runIds.indexOf(error.holderId);
  if (sibling < 0 || sibling === rank) return error;
  const [a, b] = [Math.min(rank, sibling), Math.max(rank, sibling)];
  return new OffloadError(
    "E_USAGE",
    `Nodes ${a} (${labels[a]}) and ${b} (${labels[b]}) are one machine: both reached the same remote dir, which node ${sibling} holds; nothing was started on any node.`,
    {
      hint: `Give each node a remote dir of its own (\`--host ${labels[a]}/a,${labels[b]}/b\`) or a machine of its own; waiting or \`--force\` would not help.`,
    },
  );
}

/** The caller's leave signal (a second Ctrl+C, a closed stdout) relayed, reason and all, to one of the job's. */
function relayDetach(leave: AbortSignal | undefined): AbortController {
  const detach = new AbortController();
  if (leave?.aborted) detach.abort(leave.reason);
  else leave?.addEventListener("abort", () => detach.abort(leave.reason), { once: true });
  return detach;
}

/** The job's end from every node's: the first failure's error or record, else node 0's. */
export function settleNodes(
  settled: readonly PromiseSettledResult<RunRecord>[],
  first: { record?: RunRecord; error?: unknown } | undefined,
): NodesResult {
  if (first?.error !== undefined) throw first.error;
  const records = settled.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
  const decisive = first?.record ?? records[0];
  if (decisive === undefined) throw new Error("a job across nodes needs at least one node");
  return { records, decisive };
}

/** The `nodes-ended` event of a job whose nodes have all ended. */
export function describeNodesEnd({ records, decisive }: NodesResult): RunEvent {
  return {
    type: "nodes-ended",
    succeeded: decisive.status === "succeeded",
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

/** The address this machine reached a node's host at, as its prepare said: a local shell's is loopback. */
function readReached(reached: string): string {
  return isNodeAddress(reached) ? reached : "127.0.0.1";
}

/** Asks node 0 for its address toward node 1 and a free port; the others' addresses are as reached. */
async function readLayout(
  nodes: readonly NodeTarget[],
  transports: readonly Transport[],
  reached: string[],
) {
  const [master] = nodes;
  const [transport] = transports;
  if (master === undefined || transport === undefined) throw new Error("no node");
  const result = await transport.exec(buildMasterScript(reached[1]), { timeoutMs: 30_000 });
  if (result.connectionFailed) throw transport.explain(result);
  const port = readNodeMark(result.stderr, NODE_MARK.port);
  if (port === undefined || !/^[0-9]+$/.test(port))
    throw new OffloadError(
      "E_LAUNCH",
      `Could not find a free port on ${transport.label} for the job's rendezvous: ${result.stderr.trim() || "no answer"}`,
      { hint: "Set MASTER_PORT with `-e MASTER_PORT=29500` (a port free on the first node)." },
    );
  const source = readNodeMark(result.stderr, NODE_MARK.source);
  const addresses = [source ?? reached[0] ?? "127.0.0.1", ...reached.slice(1)];
  const procsPerNode = master.settings.gpus && master.settings.gpus > 0 ? master.settings.gpus : 1;
  return { addresses, masterPort: Number(port), procsPerNode };
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
  const found = (await store.list()).find((r) => r.group?.id === group.id && r.group.node === node);
  if (found === undefined)
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `The job of run ${record.id} has no node ${node} recorded here (nodes 0 to ${group.nodes.length - 1}).`,
      { hint: "`offload ps` lists the runs of this project." },
    );
  return found;
}
