// OFFLOAD_TRACE=1: a time line of one command on stderr at exit (node start = 0 ms): when the bundle
// was loaded, each event the library reported, and each child process's life (src/transport/child.ts).
import type { Reporter, RunEvent } from "../events.js";
import type { Output } from "./render.js";

export function isTracing(): boolean {
  return Boolean(process.env.OFFLOAD_TRACE);
}

/**
 * CPU time (user + system) this process has used so far, in ms. OFFLOAD_TRACE=cpu prints it beside each
 * mark: on a loaded machine wall times swell with the wait for a core, CPU time far less.
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Marks a moment of the command by name, with the CPU used so far (no-op unless tracing). */
export function markTrace(name: string): void {
  if (isTracing()) performance.mark(name, { detail: { cpu: cpuMs() } });
}

/** The reporter, with each event marked first. */
export function traceEvents(report: Reporter): Reporter {
  if (!isTracing()) return report;
  return (event: RunEvent) => {
    if (event.type !== "output") markTrace(`event ${event.type}`);
    report(event);
  };
}

/** Writes the time line: each mark, each child from its spawn to its end, in the order they began. */
export function printTrace(out: Output): void {
  if (!isTracing()) return;
  markTrace("exit");
  const withCpu = process.env.OFFLOAD_TRACE === "cpu";
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
    return `trace ${at} ${span.padEnd(18)} ${withCpu ? formatCpu(e) : ""}${e.name}`;
  });
  out.stderr.write(`${lines.join("\n")}\n`);
}

/** A mark's CPU column (`cpu  123 `), blank for a span or a mark made without one. */
function formatCpu(entry: object): string {
  const cpu = (entry as { detail?: { cpu?: unknown } | null }).detail?.cpu;
  return typeof cpu === "number" ? `cpu ${cpu.toFixed(0).padStart(4)} ` : "".padEnd(9);
}
