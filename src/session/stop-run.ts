// `offload stop` as library calls: signal the run on its host, then bring its log and outputs home and
// record its end here, unless another offload on this machine follows the run and does that itself.
import { jobRefOf, type StopOutcome } from "../backends/types.js";
import type { RunContext } from "../context.js";
import { isOffloadError } from "../errors.js";
import type { RunRecord } from "../runs/record.js";
import { attachRun } from "./attach.js";

/** TERM to the run's processes, KILL after the grace period (as the backend stops a job: scancel). */
export async function signalRun(context: RunContext, record: RunRecord): Promise<StopOutcome> {
  const { graceSeconds } = context.settings;
  return context.backend.stop(jobRefOf(record), { graceSeconds });
}

export type StoppedEnd =
  | { recordedBy: "this"; record: RunRecord }
  /**
   * Another offload on this machine follows the run (its `run`, an `attach`): it records the end, or
   * has already (`record`: the end it recorded).
   */
  | { recordedBy: "follower"; record?: RunRecord };

/**
 * Like a Ctrl+C in `offload run`: the rest of the log and the outputs home, the end recorded as
 * stopped. Two followers would append the log twice, so a live follower is looked for first, and a
 * record the follower has meanwhile ended is left as it is. A follower that takes the run between that
 * look and our own mark makes attach refuse with E_LOCKED, which is read the same way; any other
 * E_LOCKED is a real failure and is thrown.
 */
export async function recordStoppedRun(context: RunContext, runId: string): Promise<StoppedEnd> {
  const { store } = context;
  if (store.followerOf(runId) !== undefined) return { recordedBy: "follower" };
  const current = await store.load(runId);
  if (current.status !== "running") return { recordedBy: "follower", record: current };
  try {
    const record = await attachRun(context, { runId, stopRequested: true });
    return { recordedBy: "this", record };
  } catch (error) {
    if (isOffloadError(error) && error.code === "E_LOCKED" && store.followerOf(runId) !== undefined)
      return { recordedBy: "follower" };
    throw error;
  }
}
