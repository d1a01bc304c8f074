// The follow of a Slurm job: its output from the bytes this machine has until Slurm says it ended,
// through lost connections (each outage gets the reconnect timeout), and the job's states as events.
import { isOffloadError, OffloadError } from "../../errors.js";
import type { RunEvent } from "../../events.js";
import { reconnectDelayMs, sleep } from "../../transport/backoff.js";
import { type FollowIo, type JobRecord, LEFT_BY } from "../types.js";
import type { SlurmClient } from "./client.js";
import type { SlurmJobRef, SlurmJobStatus } from "./types.js";

/** Errors of a connection (not of Slurm): the follow reconnects and resumes from the bytes it has. */
const CONNECTION_CODES = new Set(["E_HOST_UNREACHABLE", "E_SSH", "E_DISCONNECTED"]);

/**
 * Follows the job's output from the bytes this machine has until Slurm says it ended, reconnecting
 * after a lost connection (each outage gets the reconnect timeout); returns the final status.
 */
export async function followSlurmJob(
  client: SlurmClient,
  ref: SlurmJobRef,
  io: FollowIo,
  options: { label: string; reconnectTimeoutSeconds: number },
): Promise<SlurmJobStatus> {
  const { sink, report, signal: detach } = io;
  const timeoutSeconds = options.reconnectTimeoutSeconds;
  let outage: { attempt: number; deadline: number } | undefined;
  for (;;) {
    if (detach?.aborted) throw leftError(ref, detach);
    const from = sink.size;
    try {
      const result = await client.follow(ref, from, {
        onOutput: (chunk) => {
          sink.write(chunk);
          report({ type: "output", data: chunk });
        },
        onState: (status) => {
          io.onJob?.({ slurm: recordOf(status) });
          report(stateEvent(status));
        },
        onUnreachable: (message) => report({ type: "slurm-unreachable", reason: message }),
        ...(detach === undefined ? {} : { signal: detach }),
      });
      if (outage !== undefined)
        report({ type: "reconnected", attempt: outage.attempt, offset: from });
      if (result.final !== undefined) return result.final;
      if (detach?.aborted) throw leftError(ref, detach);
      throw new OffloadError("E_SLURM", `The follow of Slurm job ${ref.jobId} ended early.`);
    } catch (error) {
      if (!isOffloadError(error) || !CONNECTION_CODES.has(error.code)) throw error;
      outage ??= { attempt: 0, deadline: Date.now() + timeoutSeconds * 1000 };
      outage.attempt += 1;
      if (Date.now() > outage.deadline)
        throw new OffloadError(
          "E_DISCONNECTED",
          `Lost the connection to ${options.label} and could not get it back within ${timeoutSeconds} s.`,
          {
            hint: `Slurm job ${ref.jobId} goes on. \`offload attach ${ref.runId}\` resumes its log from byte ${sink.size}.`,
          },
        );
      const delayMs = reconnectDelayMs(outage.attempt);
      report({ type: "reconnecting", attempt: outage.attempt, delayMs, reason: error.message });
      await sleep(delayMs, detach);
    }
  }
}

function leftError(ref: SlurmJobRef, signal: AbortSignal): OffloadError {
  const hint = `\`offload attach ${ref.runId}\` follows it again; \`offload stop ${ref.runId}\` cancels it.`;
  if (signal.reason === LEFT_BY.outputClosed)
    return new OffloadError(
      "E_OUTPUT_CLOSED",
      `Standard output was closed: stopped following run ${ref.runId} (Slurm job ${ref.jobId}), which goes on.`,
      { hint },
    );
  return new OffloadError(
    "E_INTERRUPTED",
    `Stopped following run ${ref.runId} (Slurm job ${ref.jobId}), which goes on.`,
    { hint },
  );
}

/** What the run record keeps of what Slurm said (run.json `slurm`). */
export function recordOf(status: SlurmJobStatus): NonNullable<JobRecord["slurm"]> {
  return {
    jobId: status.jobId,
    state: status.state,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.nodes === undefined ? {} : { nodes: status.nodes }),
  };
}

/** A job's state as reported: `PENDING` with its reason, `RUNNING` with its nodes. */
export function stateEvent(status: SlurmJobStatus): RunEvent {
  return { type: "slurm-state", ...recordOf(status), state: status.state };
}
