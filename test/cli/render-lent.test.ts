// An output event's bytes are lent (events.ts): the follower reads its next block into the same memory.
// The human reporter hands them to stdout as they are only where stdout takes a write whole at once.
import { createWriteStream, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { finished } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { createHumanReporter } from "../../src/cli/render.js";

/** A block as the follower lends it, then read into again. */
function lend(report: (data: Uint8Array) => void, text: string, next: string): void {
  const block = Buffer.from(text);
  report(block);
  block.write(next);
}

describe("the log's lent bytes on stdout", () => {
  it("are copied for a stdout that may keep them (any stream but the CLI's own)", () => {
    const stdout = new PassThrough();
    const report = createHumanReporter({ stdout, stderr: new PassThrough() }, { quiet: true });
    lend((data) => report({ type: "output", data }), "first block\n", "OVERWRITTEN\n");
    lend((data) => report({ type: "output", data }), "second block\n", "OVERWRITTEN!\n");
    expect(stdout.read().toString()).toBe("first block\nsecond block\n");
  });

  it("are copied while a write is still under way, where the stream queues the next one", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "offload-lent-")), "out.log");
    // A file stream writes asynchronously: the second write waits in its queue for the first.
    const stdout = createWriteStream(path);
    const report = createHumanReporter(
      { stdout, stderr: new PassThrough(), stdoutWritesAtOnce: true },
      { quiet: true },
    );
    report({ type: "output", data: Buffer.from("kept by its owner\n") });
    lend((data) => report({ type: "output", data }), "lent block\n", "OVERWRITTEN\n");
    stdout.end();
    await finished(stdout);
    expect(readFileSync(path, "utf8")).toBe("kept by its owner\nlent block\n");
  });
});
