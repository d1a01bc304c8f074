// Where the nodes of a job meet: node 0's address as the others reach it and a free port there (one
// round trip to node 0, once all are locked), the others' addresses as their prepares reached them.
import {
  buildMasterScript,
  isNodeAddress,
  NODE_MARK,
  readNodeMark,
} from "../backends/nodes/contract.js";
import type { RunContext } from "../context.js";
import { OffloadError } from "../errors.js";
import type { ExecResult, Transport } from "../transport/types.js";
import type { HeldLaunch } from "./held-launch.js";

/** How the job reaches a node's host: its transport, and its prepare's held connection if it holds. */
export interface NodeReach {
  transport: Transport;
  held?: HeldLaunch | undefined;
}

/** The address this machine reached a node's host at, as its prepare said: a local shell's is loopback. */
export function readReached(reached: string): string {
  return isNodeAddress(reached) ? reached : "127.0.0.1";
}

/** Asks node 0 for its address toward node 1 and a free port; the others' addresses are as reached. */
export async function readLayout(
  nodes: readonly RunContext[],
  reaches: readonly NodeReach[],
  reached: string[],
) {
  const [master] = nodes;
  const [reach] = reaches;
  if (master === undefined || reach === undefined) throw new Error("no node");
  const { transport } = reach;
  const result = await askMaster(reach, buildMasterScript(reached[1]));
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

/**
 * Down node 0's held connection where it holds (no ssh of its own: each spawn blocks offload's thread),
 * else in a round trip of its own; also where the held connection ended meanwhile (status 255).
 */
async function askMaster({ transport, held }: NodeReach, script: string): Promise<ExecResult> {
  const asked = await held?.ask?.(script);
  if (asked !== undefined && asked.code !== 255)
    return { code: asked.code, stdout: "", stderr: asked.stderr, connectionFailed: false };
  return transport.exec(script, { timeoutMs: 30_000 });
}
