// A stop asked for while offload follows a run (the first Ctrl+C): the job is stopped through the
// backend while the log keeps streaming, during the launch round trip as during the follow.
import type { RunContext } from "../context.js";
import type { RunRecord } from "../runs/record.js";

/**
 * Stops the remote job once `controls.stop` aborts (the first Ctrl+C), while the log keeps streaming to
 * its end. The stop runs on the host and goes on there when offload leaves (`controls.detach`, the
 * second Ctrl+C): TERM has been sent, and KILL follows after the grace period if the job still runs.
 * Returns a function that stops listening, and one that resolves once a stop under way has reached the
 * host (or failed): offload must not exit before, or the stop dies with its ssh.
 */
export function armStop(
  context: RunContext,
  record: RunRecord,
): { disarm: () => void; settled: () => Promise<void> } {
  const { backend, report, controls } = context;
  const { graceSeconds } = context.settings;
  const signal = controls.stop;
  let stopping: Promise<void> = Promise.resolve();
  const onStop = () => {
    if (record.stopRequested) return;
    record.stopRequested = true;
    report({ type: "stopping", runId: record.id, graceSeconds });
    const job = { runId: record.id, remoteDir: record.target.remoteDir };
    const leave = controls.detach;
    stopping = backend
      .stop(job, { graceSeconds, ...(leave ? { signal: leave } : {}) })
      .catch((error: unknown) => {
        report({
          type: "stop-failed",
          runId: job.runId,
          reason: error instanceof Error ? error.message : String(error),
        });
      })
      .then(() => {});
  };
  if (signal?.aborted) onStop();
  else signal?.addEventListener("abort", onStop, { once: true });
  return {
    disarm: () => signal?.removeEventListener("abort", onStop),
    settled: () => stopping,
  };
}
