// A pid file proves nothing by itself: the real stop, follow and lock scripts under the real sh, on this
// machine, against real processes. Only a group proven to be the run's is signalled, and a launcher.pid
// naming someone else's process neither hangs a follow nor holds the lock.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildFollowScript } from "../../src/remote/follow.js";
import { buildLaunchScript, type LaunchPlan } from "../../src/remote/launch.js";
import { LOCK_FILE, MARK, remoteRunDir, STDIN_END } from "../../src/remote/layout.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { buildRunStatusScript, parseRunStatus } from "../../src/remote/status.js";
import { buildStopScript } from "../../src/remote/stop.js";
import { stopRemoteRun } from "../../src/session/stop.js";
import { LocalTransport } from "../../src/transport/local.js";
import { makeLaunchPlan } from "../support/launch-plan.js";
import { startTimeOf as startTime } from "../support/proc.js";

const ID = "20261125-120000-abcd";
const transport = new LocalTransport();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let dir: string;
let runDir: string;
const strays: ChildProcess[] = [];
const jobs: number[] = [];
const launchers: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload stop 'q' "));
  runDir = join(dir, remoteRunDir(ID));
});
afterEach(async () => {
  for (const child of strays.splice(0)) child.kill("SIGKILL");
  for (const pid of jobs.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // A launcher whose job was just killed writes its exit file and frees the lock: let it finish first.
  for (const pid of launchers.splice(0))
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  rmSync(dir, { recursive: true, force: true });
});

/** Alive and not a zombie (orphans wait a while for a slow PID 1 to reap them). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^Z/.test(stat.slice(stat.lastIndexOf(") ") + 2));
  } catch {
    return false;
  }
}

/** A process in a session and group of its own that has nothing to do with any run. */
function startUnrelated(): number {
  const child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
  strays.push(child);
  if (child.pid === undefined) throw new Error("could not start sleep");
  return child.pid;
}

function plan(overrides: Partial<LaunchPlan> = {}): LaunchPlan {
  return makeLaunchPlan({
    runId: ID,
    remoteDir: dir,
    command: ["sleep", "60"],
    follow: false,
    ...overrides,
  });
}

/** The prepare round trip: takes the lock (with --force: from a live holder too). */
function takeLock(runId: string, force = false) {
  return transport.exec(buildPrepareScript(dir, { runId, force, graceSeconds: 1 }));
}

/** Launches a real run of `sleep 60`; returns the job's pid once its pid file is written. */
async function launchJob(overrides: Partial<LaunchPlan> = {}): Promise<number> {
  expect((await takeLock(overrides.runId ?? ID)).code).toBe(0);
  const result = await transport.exec(buildLaunchScript(plan(overrides)), {
    stdin: `{}\n${STDIN_END}\n`,
  });
  expect(result.stderr).toContain(MARK.launched);
  const id = overrides.runId ?? ID;
  const pidFile = join(dir, remoteRunDir(id), "pid");
  for (let i = 0; i < 100 && !/^\d+ \d+$/.test(readText(pidFile)); i++) await sleep(50);
  const pid = Number(readText(pidFile).split(" ")[0]);
  jobs.push(pid);
  launchers.push(Number(/offload-launched (\d+)/.exec(result.stderr)?.[1]));
  return pid;
}

function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8").trim() : "";
}

describe("stopping a run", () => {
  it("records the job's pid with its start time, and stops that group", async () => {
    const job = await launchJob();
    expect(readText(join(runDir, "pid"))).toBe(`${job} ${startTime(job)}`);
    expect(await stopRemoteRun(transport, dir, ID, 1)).toBe("stopped");
    expect(isAlive(job)).toBe(false);
    expect(readText(join(runDir, "exit"))).toBe("143");
  });

  it("never signals a group that is not the run's: an unrelated group, a reused pid, garbage", async () => {
    const job = await launchJob();
    const saved = readText(join(runDir, "pid"));
    const other = startUnrelated();
    const cases = [
      [`${other}`, `process ${other} does not carry this run's OFFLOAD_RUN_ID`],
      [`${other} ${startTime(job)}`, `process ${other} is not the job`],
      ["garbage;x", "its pid file does not name a process group of a job"],
      [`${job} 1`, `process ${job} is not the job`],
    ] as const;
    for (const [content, why] of cases) {
      writeFileSync(join(runDir, "pid"), `${content}\n`);
      // Refused at once: no grace period, no wait for a launcher, and never "stopped" or "pending".
      const refused = stopRemoteRun(transport, dir, ID, 1);
      await expect(refused).rejects.toMatchObject({ code: "E_STOP_REFUSED" });
      await expect(refused).rejects.toThrow(why);
      expect(isAlive(other)).toBe(true);
      expect(isAlive(job)).toBe(true);
      expect(existsSync(join(runDir, "exit"))).toBe(false);
    }
    writeFileSync(join(runDir, "pid"), `${saved}\n`);
    expect(await stopRemoteRun(transport, dir, ID, 1)).toBe("stopped");
    expect(isAlive(other)).toBe(true);
  });

  it("--force takes nothing over from a run whose job is not proven: no signal, the lock kept", async () => {
    const job = await launchJob();
    const other = startUnrelated();
    writeFileSync(join(runDir, "pid"), `${other}\n`);
    const next = "20261125-120002-ijkl";
    const result = await takeLock(next, true);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`offload-stop unproven process ${other}`);
    expect(result.stderr).toContain(`${MARK.locked} ${ID}`);
    expect(result.stderr).not.toContain(MARK.forced);
    expect(isAlive(other)).toBe(true);
    expect(isAlive(job)).toBe(true);
    expect(readText(join(dir, LOCK_FILE))).toMatch(new RegExp(`^${ID} `));
    expect(existsSync(join(runDir, "displaced"))).toBe(false);
  });

  it("refuses pid 1 (in a PID namespace of its own, so a regression could not signal this machine)", () => {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "pid"), "1\n");
    // Inside the namespace the outer sh is pid 1 and a sleep is its neighbour: `kill -- -1` would hit it.
    const outer =
      'sleep 30 & s=$!; sh -c "$1"; rc=$?; kill -0 $s && echo neighbour-alive; kill $s; exit $rc';
    const result = spawnSync(
      "unshare",
      ["-p", "-f", "--mount-proc", "sh", "-c", outer, "sh", buildStopScript(dir, ID, 1)],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(result.stderr).toContain("offload-stop unproven");
    expect(result.stdout).toContain("neighbour-alive");
    expect(result.status).toBe(5);
  });

  it("stops a run started by an older offload (pid files without start times) by its OFFLOAD_RUN_ID", async () => {
    const job = await launchJob();
    writeFileSync(join(runDir, "pid"), `${job}\n`);
    const launcher = readText(join(runDir, "launcher.pid")).split(" ")[0];
    writeFileSync(join(runDir, "launcher.pid"), `${launcher}\n`);
    const states = parseRunStatus(
      (await transport.exec(buildRunStatusScript([{ remoteDir: dir, runId: ID }]))).stdout,
    );
    expect(states.get(ID)).toEqual({ state: "running" });
    expect(await stopRemoteRun(transport, dir, ID, 1)).toBe("stopped");
    expect(isAlive(job)).toBe(false);
  });

  it("refuses an id that is not a run id before any script is built", async () => {
    const crafted = `${ID}; touch pwned`;
    expect(() => buildStopScript(dir, crafted)).toThrow("not a run id");
    await expect(stopRemoteRun(transport, dir, crafted, 1)).rejects.toMatchObject({
      code: "E_RUN_NOT_FOUND",
    });
    expect(existsSync(join(process.env.HOME ?? "/", "pwned"))).toBe(false);
  });
});

describe("a launcher.pid naming someone else's live process", () => {
  for (const [name, content] of [
    ["a bare pid", (pid: number) => `${pid}`],
    ["a pid with another start time", (pid: number) => `${pid} 1`],
  ] as const) {
    it(`(${name}) ends a follow as lost at once and frees the lock`, async () => {
      const other = startUnrelated();
      mkdirSync(runDir, { recursive: true });
      writeFileSync(join(runDir, "launcher.pid"), `${content(other)}\n`);
      writeFileSync(join(runDir, "output.log"), "");
      writeFileSync(join(dir, LOCK_FILE), `${ID} ${Math.floor(Date.now() / 1000)}\n`);
      const followed = await transport.exec(buildFollowScript(dir, ID, 0), { timeoutMs: 30_000 });
      expect(followed.stderr).toContain(`${MARK.exit} lost`);
      const states = parseRunStatus(
        (await transport.exec(buildRunStatusScript([{ remoteDir: dir, runId: ID }]))).stdout,
      );
      expect(states.get(ID)).toEqual({ state: "lost" });

      const next = "20261125-120001-efgh";
      const taken = await takeLock(next);
      expect(taken.stderr).toContain(`${MARK.reclaimed} ${ID}`);
      expect(readText(join(dir, LOCK_FILE))).toMatch(new RegExp(`^${next} `));
      expect(isAlive(other)).toBe(true);
    });
  }
});
