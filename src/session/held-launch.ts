// A prepare round trip that can become the launch round trip. Where the host proves the last sync
// unchanged, the prepare's shell keeps the connection (under the lock it just took) and waits on its
// stdin; the launch then goes down that connection instead of a new one: a warm run starts one ssh
// client and one remote shell, not two. Anything else (a sync to make, another launch plan, an error)
// declines, and the shell exits having started nothing (remote/launch.ts, buildHeldLaunchSteps).
import { PassThrough } from "node:stream";
import { HELD_GO } from "../remote/launch.js";
import { MARK } from "../remote/layout.js";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.js";

export interface HeldLaunch {
  /** Whether the host still waits to run exactly `script` (the launch script it was given). */
  accepts(script: string): boolean;
  /**
   * Runs the held launch: `stdin` goes after the go line; from now on the connection's output goes to
   * `options`. Resolves as the launch's own exec would (stderr from the go line on).
   */
  run(
    stdin: string,
    options: Pick<ExecOptions, "onStdout" | "onStderr" | "signal">,
  ): Promise<ExecResult>;
  /** Tells the host not to launch here, and resolves once the connection has ended. A no-op once run. */
  decline(): Promise<void>;
}

export interface PrepareReply {
  /** The prepare's result; where the host holds, what it has said so far (exit code 0). */
  result: ExecResult;
  held?: HeldLaunch;
}

/** Whether a held prepare has said all it says before it waits: MARK.held, and its dir line. */
function heldReplyComplete(stdout: string, stderr: string): boolean {
  return (
    stderr.split("\n").includes(MARK.held) &&
    stdout.includes(`${MARK.dir} `) &&
    stdout.endsWith("\n")
  );
}

/**
 * Runs a prepare script. With `heldScript` (the launch script the prepare holds for), it resolves as
 * soon as a proven prepare says it holds, with the connection kept open for `run` or `decline`.
 */
export function execPrepare(
  transport: Transport,
  script: string,
  heldScript: string | undefined,
): Promise<PrepareReply> {
  if (heldScript === undefined) return transport.exec(script).then((result) => ({ result }));
  const stdin = new PassThrough();
  const abort = new AbortController();
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let route: Pick<ExecOptions, "onStdout" | "onStderr"> | undefined;
  let state: "waiting" | "held" | "ran" | "declined" = "waiting";
  let ended = false;
  let settle: (reply: PrepareReply) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const reply = new Promise<PrepareReply>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString("utf8");
  const look = () => {
    if (state !== "waiting" || !heldReplyComplete(text(stdout), text(stderr))) return;
    state = "held";
    const result = { code: 0, stdout: text(stdout), stderr: text(stderr), connectionFailed: false };
    settle({ result, held });
  };
  const done = transport.exec(script, {
    stdin,
    signal: abort.signal,
    onStdout: (chunk) => {
      if (route) route.onStdout?.(chunk);
      else {
        stdout.push(chunk);
        look();
      }
    },
    onStderr: (chunk) => {
      if (route) route.onStderr?.(chunk);
      else {
        stderr.push(chunk);
        look();
      }
    },
  });
  done.then(
    (result) => {
      ended = true;
      if (state === "waiting") {
        state = "declined";
        settle({ result: { ...result, stdout: text(stdout) } });
      }
    },
    (error: unknown) => {
      ended = true;
      if (state === "waiting") fail(error);
    },
  );
  const declined = () => {
    if (state === "held") {
      state = "declined";
      stdin.end("no\n");
    }
    return done.then(
      () => undefined,
      () => undefined,
    );
  };
  const held: HeldLaunch = {
    accepts: (launchScript) => state === "held" && !ended && launchScript === heldScript,
    async run(launchStdin, options) {
      if (state !== "held") throw new Error("execPrepare: the held launch is not waiting");
      state = "ran";
      const before = Buffer.concat(stderr).length;
      route = options;
      const { signal } = options;
      if (signal?.aborted) abort.abort(signal.reason);
      else signal?.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
      stdin.end(`${HELD_GO}\n${launchStdin}`);
      const result = await done;
      // What the prepare said is its reply's; the launch's result starts at the go line.
      const said = Buffer.from(result.stderr, "utf8").subarray(before).toString("utf8");
      return { ...result, stdout: "", stderr: said };
    },
    decline: declined,
  };
  return reply;
}
