// Reporters for people and programs: human lines on stderr (the log itself goes to stdout untouched)
// with a live status line on a terminal, or one JSON event a line on stdout with --json.
import type { Reporter, RunEvent } from "../events.js";
import { stripAnsi } from "../progress/lines.js";
import { colorsFor } from "./colors.js";
import { describeEvent } from "./event-lines.js";
import { createProgressBar } from "./progress-bar.js";
import { createStatusLine } from "./status-line.js";

export interface Output {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborts once stdout is closed (`| head`): stop printing, leave a run going (src/cli/pipes.ts). */
  closed?: AbortSignal;
  /**
   * stdout has taken each write whole when `write` returns (a file, a terminal, a pipe made blocking:
   * main.ts), so the log's lent bytes (events.ts) need no copy. Elsewhere a write may queue them.
   */
  stdoutWritesAtOnce?: boolean;
}

export { bytes } from "./bytes.js";
export { countOf, describeEvent } from "./event-lines.js";

export interface HumanReporterOptions {
  quiet?: boolean;
  /** Show the status line; by default when stderr is a terminal (and not --quiet, not TERM=dumb). */
  statusLine?: boolean;
  /** Where TERM is read; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * A reporter that may hold a status line on screen: close() clears it (before an error is printed).
 * showedToolOutput() says whether a program's own output (the env build's) reached the screen.
 * say() prints a line of the command's own as a notice is printed (not with --quiet).
 */
export type HumanReporter = Reporter & {
  close(): void;
  showedToolOutput(): boolean;
  say(line: string): void;
};

type TtyStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as TtyStream).isTTY === true;
}

/** The last non-empty line of what a program printed so far, without colours or \r redraws. */
function lastLineOf(previous: string, data: Uint8Array): string {
  const lines = stripAnsi(Buffer.from(data).toString("utf8"))
    .split(/[\r\n]/)
    .filter((line) => line.trim() !== "");
  return (lines.at(-1) ?? previous).slice(0, 200);
}

/** Bytes kept of an unfinished log line; beyond it the line is written as it is. */
const MAX_PARTIAL = 64 * 1024;

/**
 * The log goes to stdout untouched and events become dim lines on stderr. On a terminal a status
 * line sits under the log; while it does, a log line reaches the screen once complete (the status
 * line shows the unfinished one, such as a bar redrawn with \r), so the two never share a row.
 */
export function createHumanReporter(
  out: Output,
  options: HumanReporterOptions = {},
): HumanReporter {
  const env = options.env ?? process.env;
  const wanted = options.statusLine ?? (!options.quiet && isTty(out.stderr) && env.TERM !== "dumb");
  const status = wanted ? createStatusLine(out.stderr as TtyStream, { env }) : undefined;
  // Long copies get a bar where the status line would be shown; anywhere else they say nothing.
  const bar = wanted ? createProgressBar(out.stderr as TtyStream) : undefined;
  const pc = colorsFor(out.stderr, env);
  // Only a log on the same screen as the status line needs to wait for its line ends.
  const hold = status !== undefined && isTty(out.stdout);
  let atLineStart = true;
  let pending: Buffer = Buffer.alloc(0);
  let toolOutputShown = false;
  let envLine = "";

  const lend = out.stdoutWritesAtOnce === true;
  const writeLog = (data: Uint8Array) => {
    // Even a blocking pipe's write can end "async" (a signal cut it short; libuv then finished it at
    // once): until its callback, the stream queues the next writes, and would keep lent bytes.
    const queues = !lend || (out.stdout as { writableLength?: number }).writableLength !== 0;
    out.stdout.write(queues ? Buffer.copyBytesFrom(data) : data);
    const last = data[data.length - 1];
    if (last !== undefined) atLineStart = last === 10;
  };
  const holdLog = (data: Uint8Array) => {
    const combined = Buffer.concat([pending, data]);
    const cut = combined.lastIndexOf(10) + 1;
    let rest = combined.subarray(cut);
    // What a terminal would show of a line redrawn with \r is what follows the last \r.
    const redraw = rest.lastIndexOf(13);
    if (redraw > 0) rest = rest.subarray(redraw);
    const complete = rest.length > MAX_PARTIAL ? combined : combined.subarray(0, cut);
    pending = rest.length > MAX_PARTIAL ? Buffer.alloc(0) : Buffer.from(rest);
    if (complete.length > 0) status?.around(() => writeLog(complete));
    status?.showPartial(stripAnsi(pending.toString("utf8").replace(/^\r/, "")));
  };
  // A log that ended mid-line would glue our message to it. The line break goes to stderr: stdout
  // carries the log byte for byte. Where only stderr is on a terminal, the log is elsewhere: no break.
  const breakLine = !(isTty(out.stderr) && !isTty(out.stdout));
  const endLogLine = () => {
    if (pending.length > 0) {
      writeLog(pending);
      pending = Buffer.alloc(0);
      status?.showPartial("");
    }
    if (!atLineStart && breakLine) out.stderr.write("\n");
    atLineStart = true;
  };
  const close = () => {
    bar?.clear();
    status?.close();
    endLogLine();
  };

  const reporter = (event: RunEvent) => {
    if (event.type === "transfer") {
      bar?.show(event);
      return;
    }
    if (event.type === "env-output" && bar !== undefined) {
      // On a terminal the build is one line (time so far, pip's latest line) instead of pip's
      // scroll; a failed build's error then shows pip's last lines.
      envLine = lastLineOf(envLine, event.data);
      bar.showActivity("python env ", envLine.trim() === "" ? "building" : envLine.trim());
      return;
    }
    // Whatever else reaches the screen takes the bar's row: the bar goes first.
    bar?.clear();
    if (event.type === "progress" || event.type === "metric") {
      status?.update(event);
      return;
    }
    if (event.type === "machine") {
      status?.machine(event);
      return;
    }
    // On a terminal the status line says how old the last checkpoint is; elsewhere it gets a line.
    if (event.type === "checkpoint" && status) {
      status.checkpoint(Date.parse(event.at));
      return;
    }
    if (event.type === "output") {
      if (hold) holdLog(event.data);
      else writeLog(event.data);
      return;
    }
    if (event.type === "env-output") {
      // The env build's output (pip) goes to stderr: stdout stays the run's own log.
      const write = () => out.stderr.write(event.data);
      if (options.quiet) return;
      toolOutputShown = true;
      if (status) status.around(write);
      else write();
      return;
    }
    if (event.type === "finished") close();
    if (options.quiet && event.type !== "finished" && event.type !== "reconnecting") return;
    const line = describeEvent(event);
    if (line === undefined) return;
    const mark =
      event.type === "finished"
        ? event.exitCode === 0
          ? pc.green("✓")
          : pc.red("✗")
        : pc.cyan("›");
    printLine(mark, line);
  };
  const printLine = (mark: string, line: string) => {
    const print = () => {
      endLogLine();
      out.stderr.write(`${mark} ${pc.dim(line)}\n`);
    };
    if (status) status.around(print);
    else print();
  };
  const say = (line: string) => {
    if (options.quiet) return;
    bar?.clear();
    printLine(pc.cyan("›"), line);
  };
  return Object.assign(reporter, { close, showedToolOutput: () => toolOutputShown, say });
}
