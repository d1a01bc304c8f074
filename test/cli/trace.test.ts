// OFFLOAD_TRACE's time line through the installed entry point: =1 as its readers parse it, =cpu with the
// CPU used by each mark, from Node's own start-up ("bin start") to the exit.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { REPO } from "../support/project.js";

const run = promisify(execFile);
const BIN = join(REPO, "bin", "offload.js");
const built = existsSync(join(REPO, "dist", "offload.cjs"));
if (!built) process.stderr.write("[trace] skipping: dist/offload.cjs is missing (npm run build)\n");

let scratch: string | undefined;
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** `offload completion bash` traced: the stderr lines that start with `trace`. */
async function traceLines(trace: string): Promise<string[]> {
  scratch = mkdtempSync(join(tmpdir(), "offload-trace-"));
  const { stderr } = await run(process.execPath, [BIN, "completion", "bash"], {
    env: { ...process.env, XDG_CACHE_HOME: scratch, OFFLOAD_TRACE: trace },
  });
  return stderr.split("\n").filter((line) => line.startsWith("trace "));
}

describe.skipIf(!built)("OFFLOAD_TRACE", () => {
  it("=1 prints each mark as `trace <ms> <name>`", async () => {
    const lines = await traceLines("1");
    const names = lines.map((line) => /^trace\s+\d+\s+(\S.*)$/.exec(line)?.[1]);
    expect(names).toEqual(["bin start", "code cache none", "main", "exit"]);
  });

  it("=cpu adds the CPU used so far to each mark, never less than the mark before", async () => {
    const lines = await traceLines("cpu");
    const marks = lines.map((line) => /^trace\s+(\d+)\s+cpu\s+(\d+)\s+(\S.*)$/.exec(line));
    expect(
      marks.map((mark) => mark?.[3]),
      lines.join("\n"),
    ).toEqual(["bin start", "code cache none", "main", "exit"]);
    const cpu = marks.map((mark) => Number(mark?.[2]));
    // Node's start-up alone takes some CPU before the entry point's first line.
    expect(cpu[0]).toBeGreaterThan(0);
    expect(cpu).toEqual([...cpu].sort((a, b) => a - b));
  });
});
