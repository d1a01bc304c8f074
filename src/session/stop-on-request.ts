// A stop asked for while offload follows a run (the first Ctrl+C): the job is stopped through the
// backend while the log keeps streaming, during the launch round trip as during the follow.
import { jobRefOf } from "../backends/types.js";
import type { RunContext } from "../context.js";
import type { RecordWriter } from "../runs/record-writer.js";

/**
 * Stops the remote job once `controls.stop` aborts (the first Ctrl+C), while the log keeps streaming to
 * its end. The stop runs on the host and goes on there when offload leaves (`controls.detach`, the
 * second Ctrl+C): TERM has been sent, and KILL follows after the grace period if the job still runs.
 * Returns a function that stops listening, and one that resolves once a stop under way has reached the
 * host (or failed): offload must not exit before, or the stop dies with its ssh.
 */
export function armStop(
  context: RunContext,
  writer: RecordWriter,
): { disarm: () => void; settled: () => Promise<void> } {
  const { backend, report, controls } = context;
  const { graceSeconds } = context.settings;
  const { record } = writer;
  const signal = controls.stop;
  let stopping: Promise<void> = Promise.resolve();
  const onStop = () => {
    if (record.stopRequested) return;
    // Saved with the run's next save (the end of its follow), as any change made while it follows.
    writer.set({ stopRequested: true });
    // The backend says how it stops the job (TERM then KILL, scancel).
    stopping = backend
      .stop(jobRefOf(record), { graceSeconds, signal: controls.detach, report })
      .catch((error: unknown) => {
        report({
          type: "stop-failed",
          runId: record.id,
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
