// Spawning local processes (ssh, rsync, tar, sh, git): the one place offload starts a child process
// (with guardian.ts, child.ts and pipeline.ts beside it).
import { spawn, spawnSync } from "node:child_process";
import { exitStatus, explainStartFailure, type ProcessResult, traceChild } from "./child.js";
import { guardGroup } from "./guardian.js";
import type { ExecOptions } from "./types.js";

export type { ProcessResult } from "./child.js";

/** A local process takes what a remote script does, and where and with what environment it runs. */
export interface ProcessOptions extends ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs argv to completion. Never rejects for a non-zero exit; rejects only when the program can't start. */
export function runProcess(
  argv: readonly string[],
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("runProcess: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", options.stdoutFd ?? "pipe", "pipe"],
      // A process group of its own: Ctrl+C in the terminal reaches offload, which decides what to stop,
      // and not the ssh clients that carry the log.
      detached: true,
    });
    const traced = traceChild(argv);
    const release = guardGroup(child.pid);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let killed = false;
    const kill = () => {
      killed = true;
      child.kill("SIGKILL");
    };
    if (options.timeoutMs !== undefined) timer = setTimeout(kill, options.timeoutMs);
    // A signal that fired before the spawn (a Ctrl+C a moment earlier) must still end the child.
    if (options.signal?.aborted) kill();
    else options.signal?.addEventListener("abort", kill, { once: true });
    // An ssh client hands its pipes to the ControlMaster it multiplexes over, which keeps them open after
    // the client is killed (until its keepalives give up over a dead link): a killed child is done when
    // it exits, not when its pipes close.
    child.on("exit", () => {
      if (!killed) return;
      child.stdout?.destroy();
      child.stderr?.destroy();
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (options.onStdout) options.onStdout(chunk);
      else stdout.push(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      options.onStderr?.(chunk);
    });
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      release();
      reject(explainStartFailure(program, error, options.cwd));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      release();
      traced();
      options.signal?.removeEventListener("abort", kill);
      resolve({
        code: exitStatus(code, signal),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
    // A child that exits before reading its stdin makes the write fail with EPIPE: that is its business.
    child.stdin?.on("error", () => {});
    const input = options.stdin ?? "";
    if (child.stdin && typeof input === "object" && "pipe" in input) input.pipe(child.stdin);
    else child.stdin?.end(input);
  });
}

/**
 * Runs a short query (`ssh -G`) to completion, blocking: for an answer a synchronous caller needs before
 * its first spawn. `timeoutMs` kills it; its status is then 128+9. Never throws; a program that cannot
 * start gives status 127.
 */
export function runProcessSync(argv: readonly string[], timeoutMs: number): ProcessResult {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("runProcessSync: empty argv");
  const traced = traceChild(argv);
  const result = spawnSync(program, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  traced();
  return {
    code:
      result.error && result.status === null && result.signal === null
        ? 127
        : exitStatus(result.status, result.signal),
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
  };
}

/**
 * Starts a process that backgrounds itself (ssh -f): resolves on its `exit`, not on stream close, because
 * the daemon it leaves behind may keep the inherited pipes open for minutes.
 */
export function runDaemonizing(
  argv: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<ProcessResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("runDaemonizing: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: options.env ?? process.env,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    const traced = traceChild(argv);
    const stderr: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined)
      timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    options.signal?.addEventListener("abort", () => child.kill("SIGKILL"), { once: true });
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => reject(explainStartFailure(program, error)));
    child.on("exit", (code, signal) => {
      if (timer) clearTimeout(timer);
      traced();
      // Give already-written stderr a moment to arrive, then stop listening so the daemon can't hold us.
      setImmediate(() => {
        child.stderr.destroy();
        child.unref();
        resolve({
          code: exitStatus(code, signal),
          stdout: "",
          stderr: Buffer.concat(stderr).toString("utf8"),
        });
      });
    });
  });
}
