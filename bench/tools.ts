// Timing helpers for the benchmarks: run a command, time it, summarise samples.
import { spawn, spawnSync } from "node:child_process";

export interface Timed {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

export interface TimeOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Send stdout to /dev/null: a 1 GiB log read by the bench would steal a core from what it measures. */
  discardStdout?: boolean;
}

/** Runs argv to completion and times it (wall clock, spawn to exit). */
export function timeCommand(argv: readonly string[], options: TimeOptions = {}): Promise<Timed> {
  const [program = "", ...args] = argv;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", options.discardStdout ? "ignore" : "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => {
      if (stdout.length < 1_000_000) stdout += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      if (stderr.length < 1_000_000) stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ ms: performance.now() - started, code: code ?? 1, stdout, stderr }),
    );
  });
}

export async function mustTime(argv: readonly string[], options: TimeOptions = {}): Promise<Timed> {
  const result = await timeCommand(argv, options);
  if (result.code !== 0)
    throw new Error(`${argv.join(" ")} exited ${result.code}: ${result.stderr.slice(-2000)}`);
  return result;
}

/** Runs argv synchronously (set-up and clean-up, not measured); throws on failure. */
export function run(argv: readonly string[], options: { cwd?: string } = {}): string {
  const [program = "", ...args] = argv;
  const result = spawnSync(program, args, {
    cwd: options.cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** Runs `a` then `b` on even rounds and `b` then `a` on odd ones, so neither always goes first. */
export async function alternate(
  round: number,
  a: () => Promise<void>,
  b: () => Promise<void>,
): Promise<void> {
  if (round % 2 === 0) {
    await a();
    await b();
  } else {
    await b();
    await a();
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}
