// One script over ssh: quoted into `sh -c`, its stdout and stderr framed so what a login shell prints
// is dropped.
import { quoteShell } from "../shell/quote.js";
import type { AnswerWatch } from "./answer-watch.js";
import {
  createStdoutFrame,
  frameScript,
  frameStderr,
  STDERR_START,
  stderrAfterMark,
} from "./frame.js";
import { runProcess } from "./process.js";
import { isSshFailure } from "./ssh-errors.js";
import type { ExecOptions, ExecResult } from "./types.js";

/**
 * Bytes that go straight to a file: the caller frames them (by length, see sync/download.ts). The
 * remote login shell parses the command line; `sh -c` with one quoted word makes that parse trivial.
 */
export async function execToFile(
  argv: string[],
  script: string,
  options: ExecOptions,
): Promise<ExecResult> {
  const result = await runProcess(
    [...argv, `sh -c ${quoteShell(frameStderr(script))}`],
    withStderrFrame(options),
  );
  const stderr = stderrAfterMark(result.stderr);
  return { ...result, stderr, connectionFailed: isSshFailure(result.code, stderr) };
}

/**
 * What the login shell prints on stderr (a `printf … >&2` in ~/.bashrc, on every round trip) is not
 * ours: the caller's onStderr sees only what the script printed, so a marker line never begins with
 * it, and no message shows it.
 */
function withStderrFrame(options: ExecOptions): ExecOptions {
  const { onStderr } = options;
  if (onStderr === undefined) return options;
  const frame = createStdoutFrame(STDERR_START);
  return {
    ...options,
    onStderr: (chunk) => {
      const payload = frame.push(chunk);
      if (payload.length > 0) onStderr(payload);
    },
  };
}

/** A framed exec's result, and whether our script's output began (the host answered). */
export interface FramedResult {
  result: ExecResult;
  started: boolean;
}

/**
 * Runs `script` framed. With a `watch`, the exec is given up when the host has not answered when it
 * expires; `onAnswer` is called as soon as it has (while the script may still run for hours), watched
 * or not, with whether the login shell printed on stdout before the script (frame.ts).
 */
export async function execFramed(
  argv: string[],
  script: string,
  options: ExecOptions,
  watch: AnswerWatch | undefined,
  onAnswer: (noisy: boolean) => void,
): Promise<FramedResult> {
  // What the login shell prints before our script (an `echo` in ~/.bashrc) is not ours: drop it.
  const frame = createStdoutFrame();
  const kept: Buffer[] = [];
  let answered = false;
  const framed = frameScript(frameStderr(script));
  const result = await runProcess([...argv, `sh -c ${quoteShell(framed)}`], {
    ...withStderrFrame(options),
    ...(watch ? { signal: watch.signal } : {}),
    onStdout: (chunk) => {
      const payload = frame.push(chunk);
      if (frame.started && !answered) {
        answered = true;
        onAnswer(frame.noisy);
        watch?.answered();
      }
      if (payload.length === 0) return;
      if (options.onStdout) options.onStdout(payload);
      else kept.push(payload);
    },
  }).finally(() => watch?.dispose());
  const stderr = stderrAfterMark(result.stderr);
  return {
    result: {
      ...result,
      stdout: Buffer.concat(kept).toString("utf8"),
      stderr,
      connectionFailed: isSshFailure(result.code, stderr),
    },
    started: frame.started,
  };
}
