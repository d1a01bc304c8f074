// The run's machine samples as a follow receives them: appended to machine.txt in the run folder, and
// each one reported as a `machine` event (the status line, the dashboard) once its line is whole.
import type { Reporter } from "../events.js";
import { createSampleReader, type MachineSample, parseSamples } from "../remote/samples.js";
import type { LogSink, RunStore } from "../runs/store.js";

/** machine.txt of the run, opened for the follow that holds its log; samples are reported as they land. */
export function openSamples(store: RunStore, runId: string, report: Reporter): LogSink {
  const file = store.openSamples(runId);
  return reportingSamples(file, report);
}

/** A samples sink that reports each whole line it is given as a `machine` event. */
export function reportingSamples(file: LogSink, report: Reporter): LogSink {
  const reader = createSampleReader();
  let pending = "";
  return {
    get size() {
      return file.size;
    },
    write(chunk) {
      file.write(chunk);
      const lines = (pending + Buffer.from(chunk).toString("utf8")).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const sample = reader.push(line);
        if (sample === undefined) continue;
        const { diskUsedBytes: _used, diskTotalBytes: _total, ...load } = sample;
        report({ type: "machine", ...load });
      }
    },
    close() {
      file.close();
    },
  };
}

export type { MachineSample };

/** A run's machine samples as this machine has them (none for a run that was not sampled). */
export async function loadSamples(store: RunStore, runId: string): Promise<MachineSample[]> {
  return parseSamples(await store.readSamples(runId).catch(() => ""));
}

/** Turns machine.txt bytes, as they come, into samples handed on a whole line at a time. */
export function feedSamples(onSamples: (samples: MachineSample[]) => void) {
  const reader = createSampleReader();
  let pending = "";
  return (chunk: Uint8Array) => {
    const lines = (pending + Buffer.from(chunk).toString("utf8")).split("\n");
    pending = lines.pop() ?? "";
    const samples = lines
      .map((line) => reader.push(line))
      .filter((sample): sample is MachineSample => sample !== undefined);
    if (samples.length > 0) onSamples(samples);
  };
}
