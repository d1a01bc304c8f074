// Reporters for people and programs: human lines on stderr (the log itself goes to stdout untouched), or
// one JSON event a line on stdout with --json.
import { StringDecoder } from "node:string_decoder";
import pc from "picocolors";
import type { Reporter, RunEvent } from "../events.js";

export interface Output {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The line a person sees for an event, or undefined for events shown otherwise (output) or not at all. */
export function describeEvent(event: RunEvent): string | undefined {
  switch (event.type) {
    case "connected":
      return `connected to ${event.target} (${seconds(event.ms)})`;
    case "synced":
      return `synced ${event.scanned} files with ${event.tool}: ${event.transferred} sent, ${bytes(event.bytes)} (${seconds(event.ms)})`;
    case "launched":
      return `run ${event.runId} started in ${event.remoteDir}`;
    case "reconnecting":
      return `connection lost (${event.reason}); reconnecting in ${seconds(event.delayMs)}, attempt ${event.attempt}`;
    case "reconnected":
      return `reconnected; resuming the log from byte ${event.offset}`;
    case "downloaded":
      return `downloaded ${event.files} file${event.files === 1 ? "" : "s"}${event.missing.length > 0 ? `; nothing matched ${event.missing.map((m) => `\`${m}\``).join(", ")}` : ""} (${seconds(event.ms)})`;
    case "notice":
      return event.message;
    case "finished":
      return event.exitCode === 0
        ? `run ${event.runId} finished (exit 0) in ${seconds(event.ms)}`
        : `run ${event.runId} ${event.status}${event.exitCode === null ? "" : ` (exit ${event.exitCode})`} after ${seconds(event.ms)}`;
    default:
      return undefined;
  }
}

export function createHumanReporter(out: Output, options: { quiet?: boolean } = {}): Reporter {
  let atLineStart = true;
  return (event) => {
    if (event.type === "output") {
      out.stdout.write(event.data);
      const last = event.data[event.data.length - 1];
      if (last !== undefined) atLineStart = last === 10;
      return;
    }
    if (options.quiet && event.type !== "finished" && event.type !== "reconnecting") return;
    const line = describeEvent(event);
    if (line === undefined) return;
    const mark =
      event.type === "finished"
        ? event.exitCode === 0
          ? pc.green("✓")
          : pc.red("✗")
        : pc.cyan("›");
    // A log that ended mid-line would glue our message to it.
    if (!atLineStart) {
      out.stdout.write("\n");
      atLineStart = true;
    }
    out.stderr.write(`${mark} ${pc.dim(line)}\n`);
  };
}

/** One JSON object a line; the log becomes one `output` event per line (a decoder keeps UTF-8 intact). */
export function createJsonReporter(out: Output): Reporter {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const emit = (payload: object) =>
    out.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...payload })}\n`);
  return (event) => {
    if (event.type !== "output") {
      if (event.type === "finished" && pending !== "") {
        emit({ type: "output", line: pending });
        pending = "";
      }
      emit(event);
      return;
    }
    const lines = (pending + decoder.write(Buffer.from(event.data))).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) emit({ type: "output", line });
  };
}
