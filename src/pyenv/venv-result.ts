// Reads the env script's reply, turns a failed build into an error a user can act on, and gives the
// launcher the lines that put the env first on PATH.
import { OffloadError } from "../errors.js";
import { quoteShell } from "../shell/quote.js";

export type EnvResult =
  | { status: "reused" | "built"; dir: string; binDir: string; waitedFor?: string }
  | { status: "failed"; code: number; tail: string; waitedFor?: string };

const MARKER = /^offload-env (reused|built|failed|waiting) (.*)$/;
const TAIL_LINES = 25;

/**
 * Reads the markers on stderr and, for a failure, the last lines of stdout (pip's own error).
 * Undefined when the script printed no outcome: the connection dropped mid-build, which the caller
 * reports as such (the next run takes over the dead build's lock and builds again).
 */
export function parseEnvResult(stderr: string, stdout: string): EnvResult | undefined {
  let result: EnvResult | undefined;
  let waitedFor: string | undefined;
  for (const line of stderr.split(/\r?\n/)) {
    const match = MARKER.exec(line);
    if (match === null) continue;
    const [, kind, rest = ""] = match;
    if (kind === "waiting") waitedFor = rest;
    else if (kind === "failed") result = { status: "failed", code: Number(rest) || 1, tail: "" };
    else if (kind === "reused" || kind === "built")
      result = { status: kind, dir: rest, binDir: `${rest}/bin` };
  }
  if (result === undefined) return undefined;
  if (result.status === "failed") result.tail = readTail(stdout);
  if (waitedFor !== undefined) result.waitedFor = waitedFor;
  return result;
}

function readTail(stdout: string): string {
  const lines = stdout.split(/\r?\n/).filter((line) => line.trim() !== "");
  return lines.slice(-TAIL_LINES).join("\n");
}

/** The E_ENV error for a failed build: what failed, pip's last lines, and what to try. */
export function explainEnvFailure(
  result: Extract<EnvResult, { status: "failed" }>,
  target: string,
): OffloadError {
  const hint =
    result.code === 127
      ? "Install Python on the host or set `python.interpreter` in offload.yaml to one that exists."
      : result.code === 75
        ? "Another run is building the same env; try again when it is done, or delete the stale `.lock` directory."
        : "Fix the dependency file (the lines above are the installer's own error), then run again: a failed build keeps nothing, so the next run starts clean.";
  // The tail travels beside the message: a terminal that streamed the build has shown it already.
  return new OffloadError(
    "E_ENV",
    `Building the Python env on ${target} failed (exit ${result.code}).`,
    {
      hint,
      ...(result.tail === "" ? {} : { output: result.tail }),
    },
  );
}

/**
 * Lines for the launcher, before the job starts: the env's bin first on PATH and VIRTUAL_ENV set, as
 * `activate` would do (activate itself is bash-flavoured and not needed for a non-interactive job).
 */
export function buildActivateLines(binDir: string): string[] {
  const envDir = binDir.replace(/\/bin\/?$/, "");
  return [
    `export VIRTUAL_ENV=${quoteShell(envDir)}`,
    `export PATH=${quoteShell(binDir)}:"$PATH"`,
    "unset PYTHONHOME",
  ];
}
