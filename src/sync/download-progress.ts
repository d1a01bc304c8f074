// A download's progress where rsync cannot report it: a big file's bytes on disk against its size.
import type { TransferProgress } from "./rsync.js";

/** How far a copy of `total` bytes is after `elapsedMs`, with the rate so far and the ETA it gives. */
export function estimateProgress(
  bytes: number,
  total: number,
  elapsedMs: number,
): TransferProgress {
  const progress: TransferProgress = {
    bytes,
    percent: total > 0 ? Math.min(100, Math.floor((bytes * 100) / total)) : 0,
  };
  if (elapsedMs > 0 && bytes > 0) {
    progress.bytesPerSecond = (bytes * 1000) / elapsedMs;
    progress.etaSeconds = Math.max(0, total - bytes) / progress.bytesPerSecond;
  }
  return progress;
}

/** How often a big file's size on disk is read for its bar. */
export const MEASURE_MS = 250;
