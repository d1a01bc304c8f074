// What `run` and `attach` share while they follow a run: the reporter for their flags, and the exit code
// the run's record ends with.
import { EXIT_CODES } from "../../errors.js";
import type { Reporter } from "../../events.js";
import type { RunRecord } from "../../runs/record.js";
import { describeEvent } from "../event-lines.js";
import { createJsonReporter } from "../json-lines.js";
import { createHumanReporter, type Output } from "../render.js";

export interface FollowFlags {
  json?: boolean;
  quiet?: boolean;
}

/** The reporter for these flags; `close` clears a status line before anything else is printed. */
export function reporterFor(
  flags: FollowFlags,
  out: Output,
): { report: Reporter; close: () => void; showedToolOutput: () => boolean } {
  if (flags.json)
    return { report: createJsonReporter(out), close: () => {}, showedToolOutput: () => false };
  const report = createHumanReporter(out, { quiet: flags.quiet ?? false });
  return { report, close: report.close, showedToolOutput: report.showedToolOutput };
}

/**
 * What a machine made for the run says (its estimate, waits, setup output, cost) goes to stderr as it
 * always did, --json or not: stdout stays the log or the JSON events.
 */
export function sayMachineLines(out: Output, next: Reporter): Reporter {
  return (event) => {
    if (event.type === "machine-output") out.stderr.write(event.data);
    else if (event.type.startsWith("machine-")) out.stderr.write(`${describeEvent(event)}\n`);
    else next(event);
  };
}

export function exitCodeOf(record: RunRecord): number {
  if (record.status === "running") return 0;
  // A job that succeeded but whose outputs are not home is not a success for a script that uses them.
  if (record.exitCode === 0 && record.error?.code === "E_DOWNLOAD") return EXIT_CODES.download;
  return record.exitCode ?? EXIT_CODES.lost;
}
