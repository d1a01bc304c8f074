// Stopping a run from this or another terminal: TERM to the job's process group, KILL after a grace
// period; the launcher then runs the shutdown commands and writes the exit status. A group the host
// cannot prove to be the run's is never signalled: that is an error, never "stopped".
import type { StopOutcome } from "../backends/types.js";
import { OffloadError } from "../errors.js";
import { buildStopScript, isStopArmed, parseStopReply } from "../remote/stop.js";
import type { Transport } from "../transport/types.js";
import { requireRunId } from "./run-id.js";

export type { StopOutcome };

export async function stopRemoteRun(
  transport: Transport,
  remoteDir: string,
  runId: string,
  graceSeconds: number,
  /** Stops waiting for the stop (the script goes on on the host once it said it is armed). */
  signal?: AbortSignal,
): Promise<StopOutcome> {
  const script = buildStopScript(remoteDir, requireRunId(runId), graceSeconds);
  await transport.connect();
  const leave = leaveOnceArmed(signal);
  const result = await transport
    .exec(script, { signal: leave.signal, onStderr: leave.watch })
    .finally(leave.release);
  if (leave.signal.aborted) {
    if (leave.armed()) return "pending";
    throw new OffloadError(
      "E_INTERRUPTED",
      `The stop of run ${runId} did not reach ${transport.label} before offload left: the job may still run.`,
      { hint: `\`offload stop ${runId}\` stops it; \`offload ps\` shows whether it still runs.` },
    );
  }
  if (result.connectionFailed) throw transport.explain(result);
  const reply = parseStopReply(result.stderr);
  if (reply.kind === "missing") {
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `Run ${runId} is not in ${remoteDir} on ${transport.label}: nothing was signalled.`,
      {
        hint: `The remote dir may have been removed or replaced, and with it the pid file that proves which processes are the job's. If the job still runs, find it on the host (its environment has OFFLOAD_RUN_ID=${runId}) and stop it by hand; \`offload ps\` shows where each run ran.`,
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

/** How long a leave waits for the host to say the stop is armed before it cuts the stop off anyway. */
const ARM_WAIT_MS = 15_000;

/**
 * Leaving (the second Ctrl+C) kills the stop's ssh client, which ends the remote script unless it has
 * already made itself immune to the hang-up. So a leave waits for the script's `armed` line (bounded:
 * a connection that never carries it is cut off after ARM_WAIT_MS) and only then lets the client go.
 */
function leaveOnceArmed(signal: AbortSignal | undefined) {
  const client = new AbortController();
  let stderr = "";
  let armed = false;
  let timer: NodeJS.Timeout | undefined;
  const onLeave = () => {
    if (armed) client.abort();
    else timer = setTimeout(() => client.abort(), ARM_WAIT_MS);
  };
  if (signal?.aborted) onLeave();
  else signal?.addEventListener("abort", onLeave, { once: true });
  return {
    signal: client.signal,
    armed: () => armed,
    watch: (chunk: Buffer) => {
      if (armed) return;
      stderr += chunk.toString();
      if (!isStopArmed(stderr)) return;
      armed = true;
      if (signal?.aborted) client.abort();
    },
    release: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onLeave);
    },
  };
}
