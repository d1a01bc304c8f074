// The run's machine samples as a follow receives them: appended to machine.txt in the run folder, and
// each one reported as a `machine` event (the status line, the dashboard) once its line is whole.
import type { Reporter } from "../events.js";
import { createSampleReader } from "../remote/samples.js";
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
