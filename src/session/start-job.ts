// The launch phase of a run through the context's backend, shared by the first attempt and retries:
// the record learns the start (its launcher, the launch time) and a stop request is armed from then on.
import type { JobLaunch, LaunchOutcome } from "../backends/types.js";
import { msSince, type RunContext } from "../context.js";
import type { RecordWriter } from "../runs/record-writer.js";
import { openSamples } from "./samples.js";
import { armStop } from "./stop-on-request.js";

/**
 * Starts the job through the backend; the log it streams meanwhile goes to the run's output.log, and
 * from the start on a Ctrl+C stops the job. A launch that started nothing leaves no run record behind:
 * it would only shadow the real latest run for `attach` and `stop`.
 */
export async function launchRun(
  context: RunContext,
  writer: RecordWriter,
  job: JobLaunch,
  onStarted: () => void,
): Promise<void> {
  const { store, report, clock } = context;
  const { record } = writer;
  const sink = store.openLog(record.id);
  const samples = job.plan.sampleSeconds ? openSamples(store, record.id, report) : undefined;
  const launchStart = clock.now();
  let stop: ReturnType<typeof armStop> | undefined;
  let savedStart: Promise<void> | undefined;
  let outcome: LaunchOutcome;
  try {
    outcome = await context.backend.launch(job, {
      sink,
      samples,
      report,
      signal: context.controls.detach,
      onStarted: (started) => {
        const ms = msSince(clock, launchStart);
        // Saved now, not when the launch's stream ends (on a steady link: the job's end): an offload
        // killed mid-follow must leave a record `ps`, `stop` and `attach` treat as running.
        savedStart = writer.update({
          ...started,
          status: "running",
          phases: { ...record.phases, launch: ms },
        });
        // Awaited below; this only keeps a failed save from going unhandled if the launch throws first.
        savedStart.catch(() => undefined);
        onStarted();
        report({
          type: "launched",
          runId: record.id,
          remoteDir: record.target.remoteDir,
          ms,
        });
        // The launch round trip streams the log too: a Ctrl+C from here on stops the job.
        stop = armStop(context, writer);
      },
    });
  } catch (error) {
    // Leaving while a stop is under way: not before the host has it, or it dies with its ssh.
    if (context.controls.detach?.aborted) await stop?.settled();
    // The start, if the host confirmed one, is on disk before the error goes up.
    await savedStart?.catch(() => undefined);
    throw error;
  } finally {
    sink.close();
    samples?.close();
    stop?.disarm();
  }
  await savedStart;
  // Saved with the attempt's next update (its run phase).
  writer.set({ logBytes: sink.size });
  if (outcome.kind === "not-started") {
    await store.remove(record.id);
    throw outcome.error;
  }
}
