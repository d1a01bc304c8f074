// `producer | consumer` as two local children (tar over ssh), one result for the pair.
import { spawn } from "node:child_process";
import { exitStatus, explainStartFailure, type ProcessResult, traceChild } from "./child.js";
import { createFrameStripper } from "./frame.js";
import { guardGroup } from "./guardian.js";

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
