// Which run last took a remote dir: the lock step names it, a download's check refuses for any other
// run. The real scripts under the real sh, on this machine.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildLatestRunCheck, LATEST_RUN_FILE, readLaterRun } from "../../src/remote/latest-run.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { quoteShell } from "../../src/shell/quote.js";
import { LocalTransport } from "../../src/transport/local.js";

const ME = "20261202-120000-mine";
const LATER = "20261202-130000-late";
const transport = new LocalTransport();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload latest 'q' "));
  mkdirSync(join(dir, ".offload"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function check(runId = ME) {
  return transport.exec(
    [`cd ${quoteShell(dir)} || exit 9`, ...buildLatestRunCheck(runId)].join("\n"),
  );
}

describe("the run that last took a remote dir", () => {
  it("is the run whose prepare took the lock, each time another takes it", async () => {
    for (const runId of [ME, LATER]) {
      const taken = await transport.exec(
        buildPrepareScript(dir, { runId, force: false, graceSeconds: 1 }),
      );
      expect(taken.code, taken.stderr).toBe(0);
      expect(readFileSync(join(dir, LATEST_RUN_FILE), "utf8")).toBe(`${runId}\n`);
      // The run ended and freed the lock (as its launcher does).
      rmSync(join(dir, ".offload/lock"));
    }
  });

  it("lets the download of that run go on, and refuses any other naming the later one", async () => {
    writeFileSync(join(dir, LATEST_RUN_FILE), `${LATER}\n`);
    const mine = await check(ME);
    expect(mine.code).toBe(1);
    expect(readLaterRun(mine.stderr)).toBe(LATER);
    const theirs = await check(LATER);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(readLaterRun(theirs.stderr)).toBeUndefined();
  });

  it("an empty or garbled file names no run: refused as another, unknown run", async () => {
    for (const text of ["", "\n", "../../etc x\n", "$(touch pwned)\n"]) {
      writeFileSync(join(dir, LATEST_RUN_FILE), text);
      const result = await check(ME);
      expect(result.code).toBe(1);
      expect(readLaterRun(result.stderr)).toBe("unknown");
    }
  });

  it("no file (runs of an older offload only) proves nothing: the download goes on", async () => {
    const result = await check(ME);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
  });
});
