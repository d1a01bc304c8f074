// Owns running the system tools the bed is built with (ip, nft, ssh-keygen, ssh), sync and async.

import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { type ExecResult, TestbedError } from "./types.js";

export interface CommandOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function runSync(argv: readonly string[], options: CommandOptions = {}): ExecResult {
  const [file, ...args] = argv;
  if (file === undefined) throw new TestbedError("empty command");
  const result = spawnSync(file, args, {
    encoding: "utf8",
    input: options.input ?? "",
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.timeoutMs === undefined
      ? {}
      : { timeout: options.timeoutMs, killSignal: "SIGKILL" }),
  });
  if (result.error !== undefined && result.status === null && result.signal === null) {
    return { code: 127, stdout: "", stderr: String(result.error.message) };
  }
  return { code: result.status ?? 128, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** Like runSync but throws with the tool's stderr, for steps the bed cannot do without. */
export function runCheckedSync(argv: readonly string[], options: CommandOptions = {}): string {
  const result = runSync(argv, options);
  if (result.code !== 0) {
    throw new TestbedError(`${argv.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

export function run(argv: readonly string[], options: CommandOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new TestbedError("empty command"));
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + error.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal === null ? 128 : 128 + signalNumber(signal)),
        stdout,
        stderr,
      });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

export async function runChecked(
  argv: readonly string[],
  options: CommandOptions = {},
): Promise<string> {
  const result = await run(argv, options);
  if (result.code !== 0) {
    throw new TestbedError(`${argv.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 0;
}

/** Blocks the thread: down() must work inside a process 'exit' handler, where nothing async runs. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** PATH lookup without spawning a shell (a spawn costs ~20 ms here). */
export function hasCommand(name: string): boolean {
  const dirs = name.includes("/") ? [""] : (process.env.PATH ?? "").split(":").filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(dir === "" ? name : join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
