// Stopping a run from this or another terminal: TERM to the job's process group, KILL after a grace
// period; the launcher then runs the shutdown commands and writes the exit status. A group the host
// cannot prove to be the run's is never signalled: that is an error, never "stopped".
import type { StopOutcome } from "../backends/types.js";
import { OffloadError } from "../errors.js";
import { buildStopScript, parseStopReply } from "../remote/stop.js";
import type { Transport } from "../transport/types.js";
import { requireRunId } from "./run-id.js";

export type { StopOutcome };

export async function stopRemoteRun(
  transport: Transport,
  remoteDir: string,
  runId: string,
  graceSeconds: number,
  /** Stops waiting for the stop (the script goes on on the host). */
  signal?: AbortSignal,
): Promise<StopOutcome> {
  const script = buildStopScript(remoteDir, requireRunId(runId), graceSeconds);
  await transport.connect(signal);
  const result = await transport.exec(script, signal ? { signal } : {});
  if (result.connectionFailed) throw transport.explain(result);
  const reply = parseStopReply(result.stderr);
  if (reply.kind === "missing") {
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `Run ${runId} is not in ${remoteDir} on ${transport.label}.`,
      {
        hint: "The remote dir may have been removed; `offload ps` shows where each run ran.",
      },
    );
  }
  if (reply.kind === "unproven") {
    throw new OffloadError(
      "E_STOP_REFUSED",
      `Did not signal run ${runId} on ${transport.label}: ${reply.why}. Nothing was stopped.`,
      {
        hint: `The run's pid file (${remoteDir}/.offload/runs/${runId}/pid) names no process offload can prove to be the job's, so signalling it could hit an unrelated process. Find the job on the host (its environment has OFFLOAD_RUN_ID=${runId}) and stop it by hand.`,
      },
    );
  }
  if (reply.kind === "ended") return "already-ended";
  return reply.kind;
}
