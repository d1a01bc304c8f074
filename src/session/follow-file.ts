// Reads back a log that the stream's ssh appends to by itself (its stdout is output.log): offload reads
// the new bytes in large blocks to show and parse them. Through a pipe every byte was read in 64 KiB
// chunks of fresh memory and written again by offload: most of its CPU on a fast log (measured).
import { type FSWatcher, watch } from "node:fs";
import type { DirectLog, LogWriter } from "../backends/types.js";

/** One read's most: 200 reads for 200 MB of log. */
const BLOCK = 1 << 20;
/** Blocks read in one go before other events (the stream's end, a Ctrl+C) get their turn. */
const BLOCKS_PER_TURN = 16;
/** A growth the file watcher did not report (a file system without inotify) still shows within this. */
const POLL_MS = 100;

export interface AppendReader {
  /** Reads all the file has now: after the child has ended, its last bytes. Throws a failed read. */
  drain(): void;
  stop(): void;
}

/**
 * Reports each block appended to `sink`'s file from its size on, and moves the size past it: the size
 * stays the bytes shown, so a reconnect resumes after them. Woken by the file's changes, or a poll.
 */
export function readAppends(
  sink: LogWriter,
  log: DirectLog,
  onChunk: (chunk: Buffer) => void,
): AppendReader {
  const buffer = Buffer.allocUnsafe(BLOCK);
  let stopped = false;
  let failure: unknown;
  const readSome = (blocks: number): boolean => {
    for (let i = 0; i < blocks; i++) {
      const n = log.read(buffer, sink.size);
      if (n <= 0) return false;
      log.grew(n);
      // Lent, not copied: the next read reuses the block (an output event's bytes are the reporter's
      // only during the call, events.ts). A fresh 1 MiB a read was half of offload's CPU (measured).
      onChunk(buffer.subarray(0, n));
    }
    return true;
  };
  let scheduled = false;
  const soon = () => {
    if (scheduled || stopped || failure !== undefined) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (stopped) return;
      try {
        if (readSome(BLOCKS_PER_TURN)) soon();
      } catch (error) {
        failure = error;
      }
    });
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(log.path, soon);
    watcher.on("error", () => watcher?.close());
  } catch {
    // No watcher here: the poll alone finds the growth.
  }
  const timer = setInterval(soon, POLL_MS);
  return {
    drain() {
      if (failure !== undefined) throw failure;
      while (readSome(BLOCKS_PER_TURN));
    },
    stop() {
      stopped = true;
      watcher?.close();
      clearInterval(timer);
    },
  };
}
