// Prints failures: a user's mistake as one clear paragraph with its hint, a bug with a stack and a plea.
import { EXIT_CODES, exitCodeFor, isOffloadError } from "../errors.js";
import { colorsFor } from "./colors.js";
import type { Output } from "./render.js";

/** Errors whose program output (`OffloadError.output`) the terminal already showed as it streamed. */
const outputShown = new WeakSet<object>();

/** Says that `error`'s program output reached the screen live: the error then does not repeat it. */
export function markOutputShown(error: unknown): void {
  if (isOffloadError(error) && error.output !== undefined) outputShown.add(error);
}

export function reportFailure(
  error: unknown,
  out: Output,
  options: { json?: boolean; usage?: { line: string; help: string } | undefined } = {},
): number {
  const pc = colorsFor(out.stderr);
  if (isOffloadError(error)) {
    if (options.json) {
      out.stdout.write(
        `${JSON.stringify({ time: new Date().toISOString(), type: "failed", code: error.code, message: error.message, hint: error.hint ?? null, ...(error.output === undefined ? {} : { output: error.output }) })}\n`,
      );
    }
    out.stderr.write(`${pc.red(`error ${error.code}`)}: ${error.message}\n`);
    if (error.output !== undefined && !outputShown.has(error))
      out.stderr.write(`${error.output}\n`);
    if (options.usage) out.stderr.write(`usage: ${options.usage.line}\n`);
    const more = options.usage ? `\`${options.usage.help}\`` : undefined;
    const hint =
      error.hint && more ? `${endSentence(error.hint)} More: ${more}.` : (error.hint ?? more);
    if (hint) out.stderr.write(`${pc.dim("hint:")} ${hint}\n`);
    return exitCodeFor(error);
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  out.stderr.write(
    `${pc.red("offload hit a bug")}: ${stack}\nPlease report it with the command you ran and this message.\n`,
  );
  return EXIT_CODES.bug;
}

/** A hint followed by "More: …" ends its own sentence first. */
function endSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
