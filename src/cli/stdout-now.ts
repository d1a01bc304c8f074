// Writes to stdout that are done when the call returns. A pipe made blocking (main.ts) takes a stream
// write whole as a rule, but one a signal cuts short (a child's SIGCHLD during a long wait on a paused
// reader) ends "async": the stream then queues every later write until the next turn of the event loop,
// and a log read back 16 MiB a turn piled up there (29 MB queued, peak RSS 207 MB for `run --json` into
// a reader paused 12 s). A write straight to the blocking fd waits for the reader instead: nothing queues.
import { writeSync } from "node:fs";
import type { Output } from "./render.js";

type StreamState = { fd?: unknown; writableLength?: number; destroy(error?: Error): void };

/** A writer of `out.stdout` that returns once the bytes are taken (where stdout is a blocking fd). */
export function createStdoutNow(out: Output): (text: string) => void {
  const stream = out.stdout as NodeJS.WritableStream & StreamState;
  let direct = out.stdoutWritesAtOnce === true && typeof stream.fd === "number";
  return (text) => {
    // Whatever the stream still holds goes first: bytes keep their order.
    if (!direct || (stream.writableLength ?? 0) > 0) {
      stream.write(text);
      return;
    }
    const bytes = Buffer.from(text);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(stream.fd as number, bytes, done);
    } catch (error) {
      // EPIPE (the reader left): the stream's error path says so (pipes.ts), as a stream write would.
      direct = false;
      stream.destroy(error as Error);
    }
  };
}
