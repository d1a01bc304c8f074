// A prepare round trip that can become the launch round trip. Where the host proves the last sync
// unchanged, the prepare's shell keeps the connection (under the lock it just took) and waits on its
// stdin; the launch then goes down that connection instead of a new one: a warm run starts one ssh
// client and one remote shell, not two. Anything else (a sync to make, another launch plan, an error)
// declines, and the shell exits having started nothing (remote/launch.ts, buildHeldLaunchSteps).
// A node of a job across hosts holds every prepare (remote/node-hold.ts): its first sync's archive
// and then whatever launch it plans go down the same connection.
import { PassThrough } from "node:stream";
import { HELD_GO, HELD_GO_HANDOFF } from "../remote/launch.js";
import { MARK } from "../remote/layout.js";
import {
  formatHeldAsk,
  formatHeldLaunch,
  formatHeldTar,
  readHeldHead,
  readHeldStep,
} from "../remote/node-hold.js";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.js";

export interface HeldLaunch {
  /**
   * Whether the host still waits to run exactly `script` (the launch script it was given); a node's
   * hold takes any script while its connection lives, and `run` then sends that one.
   */
  accepts(script: string): boolean;
  /**
   * Runs the held launch: `stdin` goes after the go line; from now on the connection's output goes to
   * `options`. Resolves as the launch's own exec would (stderr from the go line on). With `handOff`,
   * a job that outlives the launch's short wait is left running with MARK.handedOff, unfollowed.
   */
  run(
    stdin: string,
    options: Pick<ExecOptions, "onStdout" | "onStderr" | "signal">,
    handOff?: boolean,
  ): Promise<ExecResult>;
  /** Tells the host not to launch here, and resolves once the connection has ended. A no-op once run. */
  decline(): Promise<void>;
  /** A node's hold (remote/node-hold.ts): it waits through the sync, which a plain hold never does. */
  readonly node: boolean;
  /**
   * A node's hold where the host's `head -c` is GNU's: unpacks a first sync's archive there; resolves
   * with tar's status and what it said (status 255: the connection ended meanwhile), or undefined
   * where the connection was gone before (the caller uploads as it would have).
   */
  untar?: (archive: Uint8Array) => Promise<HeldStepReply | undefined>;
  /**
   * A node's hold: runs `script` there in a shell of its own (node 0's rendezvous question); resolves
   * with its status and what it said on stderr, or undefined where the connection was gone before.
   */
  ask?: (script: string) => Promise<HeldStepReply | undefined>;
}

/** How a step down a node's held connection ended (status 255: the connection ended meanwhile). */
export interface HeldStepReply {
  code: number;
  stderr: string;
}

/** What a prepare holds its connection for: one planned launch script, or a node's upload and launch. */
export type HoldFor = { launch: string } | { node: true };

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
 * Runs a prepare script. With `hold` (what the prepare holds for), it resolves as soon as a prepare says
 * it holds, with the connection kept open for `run` (and a node's `untar`) or `decline`.
 */
export function execPrepare(
  transport: Transport,
  script: string,
  hold: HoldFor | undefined,
): Promise<PrepareReply> {
  if (hold === undefined) return transport.exec(script).then((result) => ({ result }));
  const heldScript = "launch" in hold ? hold.launch : undefined;
  let nodeScript: string | undefined;
  // A node's step under way: resolved when the held shell says the step ended (or the link did). Steps
  // go one at a time, each after the last one's reply.
  let step: { from: number; end: (reply: HeldStepReply) => void } | undefined;
  let steps: Promise<unknown> = Promise.resolve();
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
        lookStep();
      }
    },
  });
  const lookStep = () => {
    if (step === undefined) return;
    const said = Buffer.concat(stderr).subarray(step.from).toString("utf8");
    const code = readHeldStep(said);
    if (code === undefined) return;
    const { end } = step;
    step = undefined;
    end({ code, stderr: said });
  };
  done.then(
    (result) => {
      ended = true;
      // What the connection said during this step only: the prepare's reply and earlier steps' are not
      // this step's (a node's lost host once showed its rendezvous answer as tar's error).
      const said = Buffer.from(result.stderr, "utf8")
        .subarray(step?.from ?? 0)
        .toString("utf8");
      step?.end({ code: 255, stderr: said });
      step = undefined;
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
    node: heldScript === undefined,
    accepts: (launchScript) => {
      if (state !== "held" || ended) return false;
      if (heldScript !== undefined) return launchScript === heldScript;
      nodeScript = launchScript;
      return true;
    },
    async run(launchStdin, options, handOff = false) {
      if (state !== "held") throw new Error("execPrepare: the held launch is not waiting");
      state = "ran";
      const before = Buffer.concat(stderr).length;
      route = options;
      const { signal } = options;
      if (signal?.aborted) abort.abort(signal.reason);
      else signal?.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
      // A node's held shell (node-hold.ts) has no hand-off: its launch streams down this connection.
      stdin.end(
        nodeScript === undefined
          ? `${handOff ? HELD_GO_HANDOFF : HELD_GO}\n${launchStdin}`
          : formatHeldLaunch(nodeScript, launchStdin),
      );
      const result = await done;
      // What the prepare said is its reply's; the launch's result starts at the go line.
      const said = Buffer.from(result.stderr, "utf8").subarray(before).toString("utf8");
      return { ...result, stdout: "", stderr: said };
    },
    decline: declined,
  };
  const send = (bytes: readonly (string | Uint8Array)[]) => {
    const sent = steps.then(
      () =>
        new Promise<HeldStepReply | undefined>((resolve) => {
          if (state !== "held" || ended) return resolve(undefined);
          step = { from: Buffer.concat(stderr).length, end: resolve };
          for (const chunk of bytes) stdin.write(chunk);
        }),
    );
    steps = sent;
    return sent;
  };
  const untar = (archive: Uint8Array) => send([formatHeldTar(archive.byteLength), archive]);
  const ask = (script: string) => send([formatHeldAsk(script)]);
  // Where `head -c` may read ahead, no archive goes down the connection (remote/node-hold.ts).
  const withUntar = (reply: PrepareReply): PrepareReply =>
    reply.held?.node && readHeldHead(reply.result.stderr)
      ? { ...reply, held: { ...reply.held, untar, ask } }
      : reply.held?.node
        ? { ...reply, held: { ...reply.held, ask } }
        : reply;
  return reply.then(withUntar);
}
