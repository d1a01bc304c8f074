// Framing of a remote script's stdout and stderr: a login shell may print (`echo hi` in ~/.bashrc, on
// either) before our script runs, so each is trusted only after the start mark the script prints first.
import { Transform, type TransformCallback } from "node:stream";

/** What a framed script prints on stdout before anything else (no newline: payload follows at once). */
export const STDOUT_START = "\u0001offload-stdout-start\u0002";
/** What a framed script prints on stderr first: the markers read there begin at a line of their own. */
export const STDERR_START = "\u0001offload-stderr-start\u0002";

/** `script` with the start mark printed first; `printf` is a builtin, so no PATH is needed. */
export function frameScript(script: string): string {
  return `printf '\\001offload-stdout-start\\002'\n${script}`;
}

/** `script` with the stderr start mark printed first (for an exec that drops what precedes it). */
export function frameStderr(script: string): string {
  return `printf '\\001offload-stderr-start\\002' >&2\n${script}`;
}

export interface StdoutFrame {
  /** Feeds one chunk; returns the payload bytes it holds (empty while the mark has not come). */
  push(chunk: Buffer): Buffer;
  /** The start mark has come: the script is running on the far side. */
  readonly started: boolean;
  /** Bytes came before the start mark: the login shell prints there (an `echo` in ~/.bashrc). */
  readonly noisy: boolean;
}

/**
 * Discards everything up to and including the start mark (`mark`: stdout's, or STDERR_START). Before
 * the mark only the last few bytes are kept (the mark may be split across chunks); after it, chunks
 * pass through untouched: no scan, no copy.
 */
export function createStdoutFrame(mark: string = STDOUT_START): StdoutFrame {
  const START = Buffer.from(mark, "latin1");
  let started = false;
  let noisy = false;
  let pending = Buffer.alloc(0);
  return {
    push(chunk) {
      if (started) return chunk;
      const joined = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const at = joined.indexOf(START);
      if (at < 0) {
        const keep = Math.min(joined.length, START.length - 1);
        // What is dropped here can be no part of the mark: it is the shell's.
        if (joined.length > keep) noisy = true;
        pending = Buffer.from(joined.subarray(joined.length - keep));
        return Buffer.alloc(0);
      }
      if (at > 0) noisy = true;
      started = true;
      pending = Buffer.alloc(0);
      return joined.subarray(at + START.length);
    },
    get started() {
      return started;
    },
    get noisy() {
      return noisy;
    },
  };
}

/** A stream that drops what precedes the start mark (a tar stream from a framed script). */
export function createFrameStripper(): Transform {
  const frame = createStdoutFrame();
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      const payload = frame.push(chunk);
      done(null, payload.length > 0 ? payload : undefined);
    },
  });
}

/**
 * A framed exec's stderr as the caller sees it: from the stderr start mark on. Without the mark the
 * script never ran, and all of it is kept: ssh's own words say why (or the login shell's).
 */
export function stderrAfterMark(stderr: string): string {
  const at = stderr.indexOf(STDERR_START);
  return at < 0 ? stderr : stderr.slice(at + STDERR_START.length);
}
