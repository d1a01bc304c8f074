// Timing helpers for the benchmarks: run a command, time it, summarise samples.
import { spawn, spawnSync } from "node:child_process";

export interface Timed {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion and times it (wall clock, spawn to exit). */
export function timeCommand(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Timed> {
  const [program = "", ...args] = argv;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      if (stdout.length < 1_000_000) stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ ms: performance.now() - started, code: code ?? 1, stdout, stderr }),
    );
  });
}

export async function mustTime(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Timed> {
  const result = await timeCommand(argv, options);
  if (result.code !== 0)
    throw new Error(`${argv.join(" ")} exited ${result.code}: ${result.stderr.slice(-2000)}`);
  return result;
}

export function run(
  argv: readonly string[],
  options: { cwd?: string; input?: string } = {},
): string {
  const [program = "", ...args] = argv;
  const result = spawnSync(program, args, {
    cwd: options.cwd,
    input: options.input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
