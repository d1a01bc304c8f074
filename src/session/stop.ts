// Stopping a run from this or another terminal: TERM to the job's process group, KILL after a grace
// period; the launcher then runs the shutdown commands and writes the exit status. A group the host
// cannot prove to be the run's is never signalled: that is an error, never "stopped".
import { OffloadError } from "../errors.js";
import { buildStopScript, STOP_MARK } from "../remote/stop.js";
import type { Transport } from "../transport/types.js";
import { requireRunId } from "./run-id.js";

export type StopOutcome = "stopped" | "already-ended" | "pending";

/** Why the host refused to signal, from `offload-stop unproven <why>` (also in a --force launch). */
export function readUnproven(stderr: string): string | undefined {
  const prefix = `${STOP_MARK} unproven`;
  const line = stderr.split("\n").find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  return line.slice(prefix.length).trim() || "no reason given";
}

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
  if (result.stderr.includes(`${STOP_MARK} missing`)) {
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `Run ${runId} is not in ${remoteDir} on ${transport.label}.`,
      {
        hint: "The remote dir may have been removed; `offload ps` shows where each run ran.",
      },
    );
  }
  const unproven = readUnproven(result.stderr);
  if (unproven !== undefined) {
    throw new OffloadError(
      "E_STOP_REFUSED",
      `Did not signal run ${runId} on ${transport.label}: ${unproven}. Nothing was stopped.`,
      {
        hint: `The run's pid file (${remoteDir}/.offload/runs/${runId}/pid) names no process offload can prove to be the job's, so signalling it could hit an unrelated process. Find the job on the host (its environment has OFFLOAD_RUN_ID=${runId}) and stop it by hand.`,
      },
    );
  }
  if (result.stderr.includes(`${STOP_MARK} ended`)) return "already-ended";
  return result.stderr.includes(`${STOP_MARK} stopped`) ? "stopped" : "pending";
}
