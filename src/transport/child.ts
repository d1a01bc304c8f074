// What every child process offload starts shares: its trace, its exit status, the error when it can't start.
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { explainMissingProgram } from "./programs.js";

const STDERR_MARK_LINE = "printf '\\''\\001offload-stderr-start\\002'\\'' >&2 ";

/**
 * OFFLOAD_TRACE=1: each child's life becomes a performance measure (spawn to close), which the CLI
 * prints with the run's events at exit: where a run's time goes, without a profiler.
 */
export function traceChild(argv: readonly string[]): () => void {
  if (!process.env.OFFLOAD_TRACE) return () => {};
  const start = performance.now();
  // The stderr start mark every ssh script begins with (frame.ts) would fill the name: left out.
  const last = (argv.at(-1) ?? "").replace(/\s+/g, " ").replace(STDERR_MARK_LINE, "").slice(0, 60);
  const name = `${argv[0]} … ${last}`;
  return () => {
    performance.measure(name, { start });
  };
}

/** The status a shell reports: the exit code, or 128+n for a process killed by signal n. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

export interface ProcessResult {
  /** Exit status; 128+n when killed by signal n (as a shell reports it). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A program that is not installed is the user's to fix, with a hint; spawn says ENOENT for a missing
 * working directory too, and that one stays the error it is.
 */
export function explainStartFailure(program: string, error: Error, cwd?: string): Error {
  const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
  if (!missing || (cwd !== undefined && !existsSync(cwd))) return error;
  return explainMissingProgram(program, error) ?? error;
}
