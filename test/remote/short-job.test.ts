// A job that is over at once (`true`) ends its launch round trip without a follow: the launch waits for
// it a moment, then sends its log and exit in one go. Under the real sh on this machine, with `tail`
// behind a wrapper that records how it was asked to run.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildLaunchScript, type LaunchPlan } from "../../src/remote/launch.js";
import { MARK, STDIN_END } from "../../src/remote/layout.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { LocalTransport } from "../../src/transport/local.js";
import { makeLaunchPlan } from "../support/launch-plan.js";

const transport = new LocalTransport();
let dir: string;
let tools: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload short 'job' "));
  tools = mkdtempSync(join(tmpdir(), "offload-tail-wrapper-"));
  // Each `tail` the scripts start writes its arguments to tail.log, then is the real tail.
  const real = ["/usr/bin/tail", "/bin/tail"].find((path) => {
    try {
      readFileSync(path);
      return true;
    } catch {
      return false;
    }
  });
  writeFileSync(
    join(tools, "tail"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${tools}/tail.log'\nexec ${real} "$@"\n`,
  );
  chmodSync(join(tools, "tail"), 0o755);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(tools, { recursive: true, force: true });
});

function plan(runId: string, command: string[]): LaunchPlan {
  return makeLaunchPlan({ runId, remoteDir: dir, command, sampleSeconds: 5 });
}

/** Prepare and launch `command` with its follow, as `offload run` does; tail.log says what tail did. */
async function launch(runId: string, command: string[], onLog?: (log: string) => void) {
  rmSync(join(tools, "tail.log"), { force: true });
  const lock = { runId, force: false, graceSeconds: 1 };
  expect((await transport.exec(buildPrepareScript(dir, lock))).code).toBe(0);
  let log = "";
  const result = await transport.exec(
    `PATH='${tools}':$PATH; export PATH\n${buildLaunchScript(plan(runId, command))}`,
    {
      stdin: `{"id":"${runId}"}\n${STDIN_END}\n`,
      timeoutMs: 30_000,
      onStdout: (chunk) => {
        log += chunk.toString();
        onLog?.(log);
      },
    },
  );
  let tails = "";
  try {
    tails = readFileSync(join(tools, "tail.log"), "utf8");
  } catch {
    // no tail ran
  }
  return { result, log, tails, followed: /(^| )-f( |$)/m.test(tails) };
}

describe("the launch round trip of a job that is over at once", () => {
  it("sends its log and exit without starting a follow", async () => {
    // The wait is 50 ms: on a machine loaded enough a launcher may take longer than that to run `echo`,
    // so of five launches one must have come back without a follow (before: every one followed).
    const followed: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const {
        result,
        log,
        followed: did,
      } = await launch(`20261202-061500-sj0${i}`, ["sh", "-c", "echo done; exit 3"]);
      expect(log).toBe("done\n");
      expect(result.stderr).toContain(`${MARK.exit} 3`);
      followed.push(did);
      if (!did) break;
    }
    expect(followed).toContain(false);
  });

  it("starts no tail at all for one that printed nothing", async () => {
    // As the first test: of five launches one must come back without a follow, and that one must not
    // have read the empty log with a tail either (a process start on every node of a job across hosts).
    for (let i = 0; i < 5; i++) {
      const { result, log, tails, followed } = await launch(`20261202-061500-sq0${i}`, ["true"]);
      expect(log).toBe("");
      expect(result.stderr).toContain(`${MARK.exit} 0`);
      if (followed) continue;
      expect(tails).toBe("");
      return;
    }
    expect.unreachable("every launch of `true` followed");
  });

  it("still streams a job that runs on, line by line", async () => {
    // The job waits for `go`, made only once its first line has come through the stream: a launch that
    // waited for the job's end before streaming would never see it (the job gives up after 10 s).
    const job =
      "echo first; n=0; while [ ! -f go ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; echo last";
    const { result, log, followed } = await launch(
      "20261202-061500-sjlg",
      ["sh", "-c", job],
      (so) => {
        if (so === "first\n") writeFileSync(join(dir, "go"), "");
      },
    );
    expect(log).toBe("first\nlast\n");
    expect(result.stderr).toContain(`${MARK.exit} 0`);
    expect(followed).toBe(true);
  });
});
