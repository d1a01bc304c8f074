// A launch whose connection fails half way: the real scripts under the real sh, on this machine.
// The launch starts nothing unless its stdin came whole, and the status check tells a started job from
// one that never ran, freeing the lock for the latter.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildFollowScript } from "../../src/remote/follow.js";
import { buildLaunchScript, type LaunchPlan } from "../../src/remote/launch.js";
import { buildLaunchStatusScript } from "../../src/remote/launch-status.js";
import { LOCK_FILE, MARK, remoteRunDir, STDIN_END } from "../../src/remote/layout.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { LocalTransport } from "../../src/transport/local.js";
import { makeLaunchPlan } from "../support/launch-plan.js";

const ID = "20261125-120000-abcd";
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload launch 'q' "));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function plan(overrides: Partial<LaunchPlan> = {}): LaunchPlan {
  return makeLaunchPlan({
    runId: ID,
    remoteDir: dir,
    command: ["sh", "-c", "echo ran > ran.txt"],
    follow: false,
    ...overrides,
  });
}

const transport = new LocalTransport();

/** The prepare round trip takes the lock before the sync; the launch only checks it. */
async function takeLock(): Promise<void> {
  const result = await transport.exec(
    buildPrepareScript(dir, { runId: ID, force: false, graceSeconds: 1 }),
  );
  expect(result.code).toBe(0);
  expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toMatch(new RegExp(`^${ID} [0-9]+\n$`));
}

describe("the launch round trip", () => {
  it("starts nothing when its stdin ends before the end line, and frees the lock", async () => {
    await takeLock();
    const result = await transport.exec(buildLaunchScript(plan()), { stdin: '{"id":"x"}\n' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(MARK.aborted);
    expect(existsSync(join(dir, remoteRunDir(ID)))).toBe(false);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(join(dir, "ran.txt"))).toBe(false);
  });

  it("starts the job with a whole stdin and records the launcher before saying so", async () => {
    await takeLock();
    const result = await transport.exec(buildLaunchScript(plan()), {
      stdin: `{"id":"x"}\n${STDIN_END}\n`,
    });
    const pid = /offload-launched (\d+)/.exec(result.stderr)?.[1];
    expect(pid).toMatch(/^[1-9]\d*$/);
    const runDir = join(dir, remoteRunDir(ID));
    // The pid with the launcher's start time (field 22 of /proc/PID/stat): a reused pid is told apart.
    const [recorded, start] = readFileSync(join(runDir, "launcher.pid"), "utf8").trim().split(" ");
    expect(recorded).toBe(pid);
    expect(start).toMatch(/^[0-9]+$/);
    expect(readFileSync(join(runDir, "spec.json"), "utf8")).toBe('{"id":"x"}\n');
    for (let i = 0; i < 50 && !existsSync(join(runDir, "exit")); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readFileSync(join(dir, "ran.txt"), "utf8")).toBe("ran\n");
  });

  it("starts nothing when another run took the lock since the sync", async () => {
    await takeLock();
    writeFileSync(join(dir, LOCK_FILE), "20261125-110000-zzzz 1700000000\n");
    const result = await transport.exec(buildLaunchScript(plan()), {
      stdin: `{"id":"x"}\n${STDIN_END}\n`,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`${MARK.locked} 20261125-110000-zzzz 1700000000`);
    expect(existsSync(join(dir, remoteRunDir(ID)))).toBe(false);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toContain("20261125-110000-zzzz");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(join(dir, "ran.txt"))).toBe(false);
  });
});

describe("the launch status check", () => {
  it("answers with the launcher of a started run", async () => {
    const runDir = join(dir, remoteRunDir(ID));
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "launcher.pid"), "4242\n");
    const result = await transport.exec(buildLaunchStatusScript(dir, ID));
    expect(result.stderr).toContain(`${MARK.launched} 4242`);
    expect(existsSync(runDir)).toBe(true);
  });

  it("waits for a launch still under way, then says nothing started and frees the lock", async () => {
    const runDir = join(dir, remoteRunDir(ID));
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), `${ID} 1700000000\n`);
    // A launching shell that lives on for a moment and then dies without starting anything.
    const launching = spawn("sleep", ["1"]);
    writeFileSync(join(runDir, "launching.pid"), `${launching.pid}\n`);
    const started = Date.now();
    const result = await transport.exec(buildLaunchStatusScript(dir, ID));
    expect(Date.now() - started).toBeGreaterThan(700);
    expect(result.stderr).toContain(MARK.notLaunched);
    expect(existsSync(runDir)).toBe(false);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("leaves another run's lock alone", async () => {
    mkdirSync(join(dir, ".offload"), { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), "20261125-110000-zzzz 1700000000\n");
    const result = await transport.exec(buildLaunchStatusScript(dir, ID));
    expect(result.stderr).toContain(MARK.notLaunched);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toContain("20261125-110000-zzzz");
  });
});

describe("following a run that never started", () => {
  it("says it is missing instead of waiting for an exit that cannot come", async () => {
    mkdirSync(join(dir, remoteRunDir(ID)), { recursive: true });
    const result = await transport.exec(buildFollowScript(dir, ID, 0), { timeoutMs: 20_000 });
    expect(result.stderr).toContain(`${MARK.exit} missing`);
  });
});
