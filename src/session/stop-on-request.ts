// A stop asked for while offload follows a run (the first Ctrl+C): the job is stopped through the
// backend while the log keeps streaming, during the launch round trip as during the follow.
import type { RunContext } from "../context.js";
import type { RunRecord } from "../runs/record.js";

/**
 * Stops the remote job once `controls.stop` aborts (the first Ctrl+C), while the log keeps streaming to
 * its end. The stop runs on the host and goes on there when offload leaves (`controls.detach`, the
 * second Ctrl+C): TERM has been sent, and KILL follows after the grace period if the job still runs.
 * Returns a function that stops listening.
 */
export function armStop(context: RunContext, record: RunRecord): () => void {
  const { backend, report, controls } = context;
  const { graceSeconds } = context.settings;
  const signal = controls.stop;
  const onStop = () => {
    if (record.stopRequested) return;
    record.stopRequested = true;
    report({
      type: "notice",
      message: `stopping run ${record.id}: TERM to its processes, KILL after ${graceSeconds} s if they still run (Ctrl+C again to stop waiting; the host finishes the stop)`,
    });
    const job = { runId: record.id, remoteDir: record.target.remoteDir };
    const leave = controls.detach;
    backend
      .stop(job, { graceSeconds, ...(leave ? { signal: leave } : {}) })
      .catch((error: unknown) => {
        report({
          type: "notice",
          message: `could not stop the run yet: ${error instanceof Error ? error.message : String(error)}`,
        });
      });
  };
  if (signal?.aborted) onStop();
  else signal?.addEventListener("abort", onStop, { once: true });
  return () => signal?.removeEventListener("abort", onStop);
}
