// RunEvent: what the library reports while it works. The TTY renderer, --json and the dashboard are
// reporters of the same events; the library itself never prints.
import type { ErrorCode } from "./errors.js";
import type { MetricEvent, ProgressEvent } from "./progress/types.js";

export type RunEvent =
  | { type: "connecting"; target: string }
  | { type: "connected"; target: string; ms: number }
  | { type: "syncing"; files: number }
  | {
      type: "synced";
      tool: "rsync" | "tar";
      scanned: number;
      transferred: number;
      bytes: number;
      /** Files synced earlier and deleted here since, removed remotely. */
      removed: number;
      ms: number;
    }
  /** How far a long copy is, as rsync measures it; only a terminal shows it (a bar), never --json. */
  | {
      type: "transfer";
      direction: "upload" | "download";
      bytes: number;
      percent: number;
      bytesPerSecond?: number;
      etaSeconds?: number;
    }
  | { type: "env"; phase: "checking" | "reused" | "built"; key: string; dir?: string; ms?: number }
  | { type: "env-output"; data: Uint8Array }
  | { type: "launched"; runId: string; remoteDir: string; ms: number }
  | { type: "output"; data: Uint8Array }
  | { type: "reconnecting"; attempt: number; delayMs: number; reason: string }
  | { type: "reconnected"; attempt: number; offset: number }
  | { type: "downloading"; rules: number }
  | {
      type: "downloaded";
      files: number;
      missing: string[];
      /** Symlinks the rules met: downloads never follow one. */
      skipped: string[];
      ms: number;
    }
  | { type: "notice"; message: string }
  /** Files a checkpoint took while the job runs (`every:`): fetched home or put into the bucket. */
  | { type: "checkpoint"; files: number; at: string; to: "home" | "bucket" }
  | { type: "finished"; runId: string; exitCode: number | null; status: string; ms: number }
  | { type: "failed"; code: ErrorCode; message: string }
  | ProgressEvent
  | MetricEvent;

/** Receives events; every hook is optional so a reporter can listen to just what it shows. */
export type Reporter = (event: RunEvent) => void;

export const silentReporter: Reporter = () => {};
