// RunEvent: what the library reports while it works. The TTY renderer, --json and the dashboard are
// reporters of the same events; the library itself never prints.
import type { ErrorCode, OffloadError } from "./errors.js";
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
  | MachineEvent
  | { type: "launched"; runId: string; remoteDir: string; ms: number }
  /**
   * The log's next bytes. Lent for the call: the follower reads its next block into the same memory,
   * so a reporter that keeps them past its return (a list, a write that may queue) copies them.
   */
  | { type: "output"; data: Uint8Array }
  /** A sample of the host's machine (remote/samples.ts); the status line shows it, --json does not. */
  | {
      type: "machine";
      time: number;
      cpuPercent?: number;
      memoryUsedBytes?: number;
      memoryTotalBytes?: number;
      gpus: { index: number; utilizationPercent?: number; memoryUsedMiB?: number }[];
    }
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
  | NoticeEvent
  /** Files a checkpoint took while the job runs (`every:`): fetched home or put into the bucket. */
  | { type: "checkpoint"; files: number; at: string; to: "home" | "bucket" }
  | { type: "finished"; runId: string; exitCode: number | null; status: string; ms: number }
  | { type: "failed"; code: ErrorCode; message: string }
  | ProgressEvent
  | MetricEvent;

/**
 * Facts a person is told in one line, each with its data as fields (the sentence is the CLI's, in
 * src/cli/render.ts). A view that shows only what is worth a line (a sweep's) shows these.
 */
export type NoticeEvent =
  /** The remote dir's lock was held by a run no longer running (`since`: ISO time it was taken). */
  | { type: "lock-reclaimed"; holder: string; since?: string }
  /**
   * `--force`: the run holding the remote dir was stopped and its lock taken over; `unlaunched`: that
   * run had not started its job (its offload died or was still syncing), so nothing was stopped.
   */
  | { type: "lock-forced"; holder: string; since?: string; unlaunched?: true }
  /** This run was stopped by another run that took the remote dir over with --force. */
  | { type: "displaced"; runId: string; by: string }
  | {
      type: "attached";
      runId: string;
      offset: number;
      /** The run was being stopped: the attach is there to see the stop through. */
      stopping: boolean;
      /** The job had already ended: attach only completes the run (log, outputs, record). */
      ended?: true;
      slurmJobId?: string;
    }
  /** A stop was asked (Ctrl+C, a budget): TERM now, KILL after `graceSeconds`. */
  | { type: "stopping"; runId: string; graceSeconds: number }
  | { type: "stop-failed"; runId: string; reason: string }
  | { type: "disk-full"; remoteDir: string; target: string }
  /** The outputs did not reach home (or the bucket): the run's exit becomes 205 if the job succeeded. */
  | { type: "outputs-failed"; code: ErrorCode; message: string; hint?: string }
  | { type: "download-resumed" }
  | {
      type: "retrying";
      attempt: number;
      attempts: number;
      why: "lost" | "failed";
      backoffSeconds: number;
      /** The archived log of the attempt that ended. */
      log: string;
    }
  | { type: "checkpoint-restored"; files: number; from: "home" | "bucket"; target: string }
  | {
      type: "input-fetched";
      url: string;
      dest: string;
      etag: string;
      cached: boolean;
      bytes: number;
    }
  | {
      type: "results-pushed";
      runId: string;
      files: number;
      bytes: number;
      url: string;
      from: string;
    }
  | { type: "forwarding"; local: number; remote: number; target: string; taken?: number }
  | { type: "forward-failed"; reason: string }
  | { type: "slurm-submitted"; jobId: string }
  | { type: "slurm-state"; jobId: string; state: string; reason?: string; nodes?: string }
  | { type: "slurm-cancelling"; jobId: string }
  | { type: "slurm-cancel-failed"; jobId: string; reason: string }
  | { type: "slurm-unreachable"; reason: string }
  /** A node of a job across nodes ended badly: every other node is stopped. */
  | { type: "nodes-stopping"; status: string; exitCode: number | null }
  /** …or `error`: what went wrong where the node never got to a status. */
  | { type: "nodes-stopping"; error: string }
  /** A job across nodes ended: each node's outcome, and the node whose outcome decides. */
  | {
      type: "nodes-ended";
      succeeded: boolean;
      /** Stopped on the user's request (Ctrl+C) before any node failed: no node decided the end. */
      stoppedByUser?: boolean;
      nodes: { node: number | null; runId: string; status: string; exitCode: number | null }[];
      decisive: { node: number; target: string; runId: string };
    };

/** A machine made for the run (src/providers/host-source.ts), from its estimate to its deletion. */
export type MachineEvent =
  /** What the provider says in its own words: the cost estimate, a kept machine reused, a first-use key. */
  | { type: "machine-note"; text: string }
  /** What offload waits for (the machine running with an address, ssh answering, the delete). */
  | { type: "machine-wait"; what: string }
  | { type: "machine-ready"; tag: string; id: string; address: string }
  /** The target's `setup:` output as it runs; `machine-setup-cached`: this machine ran it already. */
  | { type: "machine-output"; data: Uint8Array }
  | { type: "machine-setup-cached"; tag: string }
  /** The first Ctrl+C before the run started: the machine is being deleted. */
  | { type: "machine-interrupted" }
  | { type: "machine-budget-stop"; budgetUsd: number }
  | { type: "machine-deleting"; tag: string }
  | { type: "machine-released"; tag: string; kept: boolean; costUsd?: number }
  /** Left with a second Ctrl+C: the next offload command deletes it. */
  | { type: "machine-left"; tag: string };

/** Receives events; every hook is optional so a reporter can listen to just what it shows. */
export type Reporter = (event: RunEvent) => void;

export const silentReporter: Reporter = () => {};

/** Outputs that did not arrive, told with the error's own message and hint. */
export function outputsFailed(error: OffloadError): RunEvent {
  return {
    type: "outputs-failed",
    code: error.code,
    message: error.message,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
  };
}
