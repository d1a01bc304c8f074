// The log stream's tail under the real sh, on this machine: it writes what it has read in blocks (not
// stdio's 4 KiB a write, each a wake-up of sshd), and still passes on a line as soon as it is written.
import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildFollowScript } from "../../src/remote/follow.js";
import { buildLaunchScript, type LaunchPlan } from "../../src/remote/launch.js";
import { MARK, remoteRunDir, STDIN_END } from "../../src/remote/layout.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { LocalTransport } from "../../src/transport/local.js";
import { makeLaunchPlan } from "../support/launch-plan.js";

// An id of this file's own: a tail of another test's run must not be taken for this one's.
const ID = "20261202-030000-blks";
const transport = new LocalTransport();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload follow 'blocks' "));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function plan(command: string[]): LaunchPlan {
  return makeLaunchPlan({ runId: ID, remoteDir: dir, command });
}

/** Launches `command` and follows it in the same round trip, as `offload run` does. */
async function launchAndFollow(command: string[], onChunk: (received: Buffer) => void) {
  const prepared = await transport.exec(
    buildPrepareScript(dir, { runId: ID, force: false, graceSeconds: 1 }),
  );
  expect(prepared.code).toBe(0);
  const chunks: Buffer[] = [];
  const result = await transport.exec(buildLaunchScript(plan(command)), {
    stdin: `{"id":"${ID}"}\n${STDIN_END}\n`,
    timeoutMs: 30_000,
    onStdout: (chunk) => {
      chunks.push(Buffer.from(chunk));
      onChunk(Buffer.concat(chunks));
    },
  });
  return { result, stdout: Buffer.concat(chunks) };
}

/** Write system calls so far of the tail that follows this file's run (cwd is the remote dir). */
function tailWrites(): number | undefined {
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!argv[0]?.endsWith("tail") || !argv.includes("-f")) continue;
      if (!argv.some((arg) => arg.includes(ID)) || readlinkSync(`/proc/${pid}/cwd`) !== dir)
        continue;
      const io = readFileSync(`/proc/${pid}/io`, "utf8");
      return Number(/^syscw: (\d+)$/m.exec(io)?.[1]);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
}

describe("the log stream's tail", () => {
  it("writes a log that is already there in blocks, and a line written later at once", async () => {
    const backlog = 2 * 1024 * 1024;
    writeFileSync(join(dir, "big.txt"), "x".repeat(backlog));
    // The job prints 2 MiB (cat: 128 KiB a write), then a last line only once the reader has all of
    // it: a line held in a buffer would never come, and the run would never end.
    const job = "cat big.txt; while [ ! -f go ]; do sleep 0.05; done; echo last";
    let writes: number | undefined;
    const { result, stdout } = await launchAndFollow(["sh", "-c", job], (received) => {
      if (received.length !== backlog || writes !== undefined) return;
      writes = tailWrites();
      writeFileSync(join(dir, "go"), "");
    });
    expect(result.stderr).toContain(`${MARK.exit} 0`);
    expect(stdout.toString("latin1")).toBe(`${"x".repeat(backlog)}last\n`);
    // stdio's 4 KiB a write would be 512 of them; in blocks, at most one a write of cat's.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(64);
  });

  it("streams a finished run's log byte for byte from an offset, across its blocks", async () => {
    const runDir = join(dir, remoteRunDir(ID));
    mkdirSync(runDir, { recursive: true });
    // Random bytes (no line structure, no final line break) over three 1 MiB blocks.
    const log = randomBytes(3 * 1024 * 1024 + 12_345);
    writeFileSync(join(runDir, "output.log"), log);
    writeFileSync(join(runDir, "exit"), "0\n");
    const offset = 1024 * 1024 - 7;
    const chunks: Buffer[] = [];
    const result = await transport.exec(buildFollowScript(dir, ID, offset), {
      timeoutMs: 30_000,
      onStdout: (chunk) => chunks.push(Buffer.from(chunk)),
    });
    expect(result.stderr).toContain(`${MARK.exit} 0`);
    expect(Buffer.concat(chunks).equals(log.subarray(offset))).toBe(true);
  });
});
