// Framing of a remote script's stdout: a login shell may print (`echo hi` in ~/.bashrc) before our
// script runs, so stdout is trusted only after the start mark the script prints first.
import { Transform, type TransformCallback } from "node:stream";

/** What a framed script prints on stdout before anything else (no newline: payload follows at once). */
export const STDOUT_START = "\u0001offload-stdout-start\u0002";
const START = Buffer.from(STDOUT_START, "latin1");

/** `script` with the start mark printed first; `printf` is a builtin, so no PATH is needed. */
export function frameScript(script: string): string {
  return `printf '\\001offload-stdout-start\\002'\n${script}`;
}

export interface StdoutFrame {
  /** Feeds one chunk; returns the payload bytes it holds (empty while the mark has not come). */
  push(chunk: Buffer): Buffer;
  /** The start mark has come: the script is running on the far side. */
  readonly started: boolean;
  /** Bytes came before the start mark: the login shell prints on stdout (an `echo` in ~/.bashrc). */
  readonly noisy: boolean;
}

/**
 * Discards everything up to and including the start mark. Before the mark only the last few bytes are
 * kept (the mark may be split across chunks); after it, chunks pass through untouched: no scan, no copy.
 */
export function createStdoutFrame(): StdoutFrame {
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
