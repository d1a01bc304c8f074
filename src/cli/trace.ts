// OFFLOAD_TRACE=1: a time line of one command on stderr at exit (node start = 0 ms): when the bundle
// was loaded, each event the library reported, and each child process's life (src/transport/child.ts).
import type { Reporter, RunEvent } from "../events.js";
import type { Output } from "./render.js";

export function isTracing(): boolean {
  return Boolean(process.env.OFFLOAD_TRACE);
}

/** Marks a moment of the command by name (no-op unless tracing). */
export function markTrace(name: string): void {
  if (isTracing()) performance.mark(name);
}

/** The reporter, with each event marked first. */
export function traceEvents(report: Reporter): Reporter {
  if (!isTracing()) return report;
  return (event: RunEvent) => {
    if (event.type !== "output") performance.mark(`event ${event.type}`);
    report(event);
  };
}

/** Writes the time line: each mark, each child from its spawn to its end, in the order they began. */
export function printTrace(out: Output): void {
  if (!isTracing()) return;
  markTrace("exit");
  const entries = performance
    .getEntries()
    .filter((e) => e.entryType === "mark" || e.entryType === "measure")
    .sort((a, b) => a.startTime - b.startTime);
  const lines = entries.map((e) => {
    const at = e.startTime.toFixed(0).padStart(5);
    const span =
      e.entryType === "measure"
        ? `→${(e.startTime + e.duration).toFixed(0).padStart(5)} (${e.duration.toFixed(0)} ms)`
        : "".padEnd(8);
    return `trace ${at} ${span.padEnd(18)} ${e.name}`;
  });
  out.stderr.write(`${lines.join("\n")}\n`);
}
