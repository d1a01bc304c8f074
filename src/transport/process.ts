// Spawning local processes (ssh, rsync, tar, sh, git): the one place offload starts a child process.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { createFrameStripper } from "./frame.js";
import { explainMissingProgram } from "./programs.js";
import type { ExecOptions } from "./types.js";

/**
 * The guardian: one `sh` per offload that holds the read end of a pipe from offload and the list of
 * child process groups still running. A SIGKILL cannot be caught and Linux's parent-death signal is out
 * of Node's reach, but the kernel closes a dead process's pipes: on EOF the guardian TERMs the groups
 * left (rsync then removes its temp file), and KILLs them a second later. Children each lead a group
 * of their own (`detached`), so the ssh, rsync or tar a child started goes too.
 */
const GUARDIAN_SCRIPT = [
  'live=" "',
  "while read -r op pid; do",
  "  case $op in",
  '    +) live="$live$pid " ;;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  '    -) rest=${live#* "$pid" }; [ "$rest" = "$live" ] || live="${live%% "$pid" *} $rest" ;;',
  "  esac",
  "done",
  '[ "$live" = " " ] && exit 0',
  'for pid in $live; do kill -s TERM -- "-$pid" 2>/dev/null; done',
  "sleep 1",
  'for pid in $live; do kill -s KILL -- "-$pid" 2>/dev/null; done',
].join("\n");

let guardian: ChildProcess | undefined;

/** Tells the guardian about a child's process group; returns the call that says it has ended. */
function guardGroup(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  if (guardian === undefined) {
    guardian = spawn("sh", ["-c", GUARDIAN_SCRIPT], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    guardian.on("error", () => {});
    guardian.stdin?.on("error", () => {});
    // Neither the guardian nor its pipe may keep offload alive.
    guardian.unref();
    (guardian.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const pipe = guardian.stdin;
  pipe?.write(`+ ${pid}\n`);
  return () => {
    pipe?.write(`- ${pid}\n`);
  };
}

/**
 * OFFLOAD_TRACE=1: each child's life becomes a performance measure (spawn to close), which the CLI
 * prints with the run's events at exit: where a run's time goes, without a profiler.
 */
function traceChild(argv: readonly string[]): () => void {
  if (!process.env.OFFLOAD_TRACE) return () => {};
  const start = performance.now();
  const last = (argv.at(-1) ?? "").replace(/\s+/g, " ").slice(0, 60);
  const name = `${argv[0]} … ${last}`;
  return () => {
    performance.measure(name, { start });
  };
}

/** A local process takes what a remote script does, and where and with what environment it runs. */
export interface ProcessOptions extends ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The status a shell reports: the exit code, or 128+n for a process killed by signal n. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
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
function explainStartFailure(program: string, error: Error, cwd?: string): Error {
  const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
  if (!missing || (cwd !== undefined && !existsSync(cwd))) return error;
  return explainMissingProgram(program, error) ?? error;
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

/**
 * Runs `producer | consumer` (tar over ssh): the producer's stdout feeds the consumer's stdin, and the
 * result is the first failure of the two, so a broken pipe is reported by whoever caused it.
 */
export function runPipeline(
  producer: readonly string[],
  consumer: readonly string[],
  options: {
    stdin?: string | Uint8Array;
    producerCwd?: string;
    consumerCwd?: string;
    /** The producer runs a framed script (`frameScript`): what precedes its start mark is dropped. */
    framed?: boolean;
  } = {},
): Promise<ProcessResult> {
  const [p0, ...pArgs] = producer;
  const [c0, ...cArgs] = consumer;
  if (p0 === undefined || c0 === undefined) throw new Error("runPipeline: empty argv");
  return new Promise((resolve, reject) => {
    const left = spawn(p0, pArgs, {
      cwd: options.producerCwd,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    // Unframed, the consumer reads the producer's pipe itself: no byte passes through this process (a
    // first sync's tar can be hundreds of MB, each chunk a turn of the event loop on a shared core), and
    // this process closes its end of the pipe, so a consumer that dies gives the producer EPIPE.
    const direct = !options.framed;
    const right = spawn(c0, cArgs, {
      cwd: options.consumerCwd,
      stdio: [direct ? left.stdout : "pipe", "pipe", "pipe"],
      detached: true,
    });
    const traced = [traceChild(producer), traceChild(consumer)];
    const releases = [guardGroup(left.pid), guardGroup(right.pid)];
    if (direct) left.stdout.destroy();
    else if (right.stdin) {
      left.stdout.pipe(createFrameStripper()).pipe(right.stdin);
      right.stdin.on("error", () => {});
    }
    left.stdin.on("error", () => {});
    left.stdin.end(options.stdin ?? "");
    const errors: Buffer[] = [];
    left.stderr.on("data", (c: Buffer) => errors.push(c));
    right.stderr?.on("data", (c: Buffer) => errors.push(c));
    right.stdout?.resume();
    const codes: (number | null)[] = [];
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      codes.push(exitStatus(code, signal));
      if (codes.length < 2) return;
      for (const release of releases) release();
      for (const end of traced) end();
      resolve({
        code: codes.find((c) => c !== 0) ?? 0,
        stdout: "",
        stderr: Buffer.concat(errors).toString("utf8"),
      });
    };
    left.on("error", (error) => reject(explainStartFailure(p0, error, options.producerCwd)));
    right.on("error", (error) => reject(explainStartFailure(c0, error, options.consumerCwd)));
    left.on("close", done);
    right.on("close", done);
  });
}
