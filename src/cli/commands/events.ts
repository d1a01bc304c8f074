// `offload events FILE`: runs a log file through the same parsers a live run uses and prints what they
// found, line by line, so a user can see what offload reads from their log and test a --pattern.
import { readFile } from "node:fs/promises";
import { isOffloadError, OffloadError } from "../../errors.js";
import { compilePatterns } from "../../progress/patterns.js";
import { parseLogLines } from "../../progress/stream.js";
import type { ParsedEvent } from "../../progress/types.js";
import { formatClock, formatNumber, formatRate } from "../../report/format.js";
import { settleWrites } from "../pipes.js";
import type { Output } from "../render.js";
import { load } from "../settings.js";

export interface EventsFlags {
  pattern?: string[];
  json?: boolean;
  /** `progress.patterns` from offload.yaml: they apply here as in a run, before `--pattern`'s. */
  configPatterns?: readonly string[];
}

export function describeParsed(event: ParsedEvent): string {
  if (event.type === "metric") {
    const at = [
      event.epoch === undefined ? "" : ` epoch ${formatNumber(event.epoch)}`,
      event.step === undefined ? "" : ` step ${event.step}`,
    ].join("");
    // Exact, so a user can compare with the log line their pattern matched.
    return `metric    ${event.name} = ${Number.isFinite(event.value) ? String(event.value) : formatNumber(event.value)}${at}`;
  }
  const parts = [
    event.epoch === undefined
      ? ""
      : `epoch ${formatNumber(event.epoch)}${event.epochs === undefined ? "" : `/${event.epochs}`}`,
    event.step === undefined
      ? ""
      : `step ${event.step}${event.steps === undefined ? "" : `/${event.steps}`}`,
    event.percent === undefined ? "" : `${formatNumber(Number(event.percent.toFixed(1)))}%`,
    event.rate === undefined ? "" : formatRate(event.rate),
    event.etaSeconds === undefined ? "" : `ETA ${formatClock(event.etaSeconds)}`,
  ];
  return `progress  ${parts.filter((p) => p !== "").join("  ")}`;
}

export async function eventsCommand(
  file: string,
  flags: EventsFlags,
  out: Output,
): Promise<number> {
  const text = await readFile(file, "utf8").catch((cause: NodeJS.ErrnoException) => {
    throw new OffloadError("E_USAGE", `Cannot read ${file}: ${cause.code ?? cause.message}.`, {
      hint: "Give the path of a log file, e.g. .offload/runs/<id>/output.log.",
      cause,
    });
  });
  checkTypedPatterns(flags.pattern ?? []);
  const patterns = [...(flags.configPatterns ?? []), ...(flags.pattern ?? [])].map((pattern) => ({
    pattern,
  }));
  const found = parseLogLines(text, patterns);
  // One write: a long log makes many lines, and a reader such as `head` may leave early.
  if (flags.json) {
    out.stdout.write(
      found.map(({ line, event }) => `${JSON.stringify({ line, ...event })}\n`).join(""),
    );
    return 0;
  }
  const width = String(found.at(-1)?.line ?? 1).length;
  out.stdout.write(
    found
      .map(
        ({ line, event }) =>
          `${String(line).padStart(width)}  ${describeParsed(event).padEnd(56)}  [${event.source}]\n`,
      )
      .join(""),
  );
  // Nobody reads the events (`| head`): no summary either.
  await settleWrites();
  if (out.closed?.aborted) return 0;
  const metrics = found.filter((f) => f.event.type === "metric").length;
  const names = new Set(found.flatMap((f) => (f.event.type === "metric" ? [f.event.name] : [])));
  out.stderr.write(
    `${found.length - metrics} progress events, ${metrics} metrics${names.size > 0 ? ` (${[...names].join(", ")})` : ""} in ${file}\n`,
  );
  return 0;
}

export async function eventsAction(out: Output, file: string, flags: EventsFlags): Promise<number> {
  const { settings } = await load({});
  return eventsCommand(file, { ...flags, configPatterns: settings.progress.patterns }, out);
}

/** A --pattern typed on the command line that cannot be used is a usage error (exit 2), as any bad flag. */
function checkTypedPatterns(typed: readonly string[]): void {
  try {
    compilePatterns(typed.map((pattern) => ({ pattern })));
  } catch (error) {
    if (!isOffloadError(error)) throw error;
    throw new OffloadError("E_USAGE", error.message.replace(/^progress pattern \d+/, "--pattern"), {
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      cause: error,
    });
  }
}
