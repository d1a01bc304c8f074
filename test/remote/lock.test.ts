// The remote dir's lock as the prepare round trip takes it: the real scripts under the real sh, on this
// machine. A refused run changes nothing; a holder between its sync and its launch is alive while its
// heartbeat is fresh.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LOCK_FILE, MARK, remoteRunDir } from "../../src/remote/layout.js";
import {
  buildHeartbeatScript,
  buildReleaseLockScript,
  LOCK_STALE_SECONDS,
  readLockedOrigin,
  readLockReply,
} from "../../src/remote/lock.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { LocalTransport } from "../../src/transport/local.js";
import { identityOf } from "../support/proc.js";
import { snapshotTree } from "../support/tree.js";

const ME = "20261125-120000-mine";
const HOLDER = "20261125-110000-hold";
let dir: string;
const transport = new LocalTransport();
const now = () => Math.floor(Date.now() / 1000);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload lock 'q' "));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function prepare(force = false) {
  return transport.exec(buildPrepareScript(dir, { runId: ME, force, graceSeconds: 1 }));
}

/** A holder whose run dir says what state it is in. */
function hold(since: number, files: Record<string, string> = {}): string {
  const runDir = join(dir, remoteRunDir(HOLDER));
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(dir, LOCK_FILE), `${HOLDER} ${since}\n`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(runDir, name), text);
  return runDir;
}

describe("taking the lock in the prepare round trip", () => {
  it("takes a free lock and makes the run's dir", async () => {
    const result = await prepare();
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toMatch(new RegExp(`^${ME} [0-9]+\\n$`));
    expect(existsSync(join(dir, remoteRunDir(ME)))).toBe(true);
  });

  it("refuses a lock whose launcher lives and changes no byte, name or time in the dir", async () => {
    const launcher = spawn("sleep", ["30"]);
    try {
      hold(now() - 3600, { "launcher.pid": `${identityOf(launcher.pid)}\n` });
      writeFileSync(join(dir, "train.py"), "print('running')\n");
      const before = snapshotTree(dir);
      const result = await prepare();
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`${MARK.locked} ${HOLDER} `);
      expect(snapshotTree(dir)).toEqual(before);
    } finally {
      launcher.kill();
    }
  });

  it("refuses a holder that has not launched yet while its heartbeat is fresh", async () => {
    hold(now() - 3600, { heartbeat: `${now() - 5}\n` });
    const result = await prepare();
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`${MARK.locked} ${HOLDER} `);
  });

  it("reclaims a holder that has not launched and stopped beating", async () => {
    hold(now() - 3600, { heartbeat: `${now() - LOCK_STALE_SECONDS - 5}\n` });
    const result = await prepare();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`${MARK.reclaimed} ${HOLDER} `);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toContain(ME);
  });

  it("with --force stops a live holder's job, then takes the lock", async () => {
    const job = spawn("sleep", ["30"], { detached: true });
    const runDir = hold(now(), {
      pid: `${identityOf(job.pid)}\n`,
      "launcher.pid": `${identityOf(job.pid)}\n`,
    });
    const ended = new Promise((resolve) => job.on("exit", resolve));
    const result = await prepare(true);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`${MARK.forced} ${HOLDER} `);
    expect(await ended).toBeNull(); // killed by a signal, no exit status
    expect(existsSync(runDir)).toBe(true);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toContain(ME);
  });
});

describe("the heartbeat and the release", () => {
  it("beats into the run's dir, and the release frees only this run's lock and dir", async () => {
    expect((await prepare()).code).toBe(0);
    await transport.exec(buildHeartbeatScript(dir, ME));
    const beat = Number(readFileSync(join(dir, remoteRunDir(ME), "heartbeat"), "utf8"));
    expect(Math.abs(beat - now())).toBeLessThan(5);
    await transport.exec(buildReleaseLockScript(dir, ME));
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(existsSync(join(dir, remoteRunDir(ME)))).toBe(false);

    hold(now());
    mkdirSync(join(dir, remoteRunDir(ME)));
    await transport.exec(buildReleaseLockScript(dir, ME));
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toContain(HOLDER);
  });

  it("leaves a run that launched alone", async () => {
    expect((await prepare()).code).toBe(0);
    writeFileSync(join(dir, remoteRunDir(ME), "launcher.pid"), "4242\n");
    await transport.exec(buildReleaseLockScript(dir, ME));
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toContain(ME);
    expect(existsSync(join(dir, remoteRunDir(ME), "launcher.pid"))).toBe(true);
  });
});

describe("a holder that said where its offload runs (origin)", () => {
  const ORIGIN = "abc0-def1/4242/777";
  const prepareReclaiming = (origin: string) =>
    transport.exec(
      buildPrepareScript(dir, {
        runId: ME,
        force: false,
        graceSeconds: 1,
        reclaim: { holder: HOLDER, origin },
      }),
    );

  it("names it in the refusal, and writes this run's own beside its state", async () => {
    hold(now() - 3600, { heartbeat: `${now() - 5}\n`, origin: `${ORIGIN}\n` });
    const refused = await prepare();
    expect(refused.code).toBe(3);
    expect(readLockedOrigin(readLockReply(refused.stderr).locked ?? "")).toBe(ORIGIN);

    rmSync(join(dir, LOCK_FILE));
    const mine = "feed-beef/99/12345";
    const taken = await transport.exec(
      buildPrepareScript(dir, { runId: ME, force: false, graceSeconds: 1, origin: mine }),
    );
    expect(taken.code).toBe(0);
    expect(readFileSync(join(dir, remoteRunDir(ME), "origin"), "utf8")).toBe(`${mine}\n`);
  });

  it("is taken over at once when the caller proved that very origin dead", async () => {
    hold(now() - 3600, { heartbeat: `${now() - 5}\n`, origin: `${ORIGIN}\n` });
    const result = await prepareReclaiming(ORIGIN);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`${MARK.reclaimed} ${HOLDER} `);
  });

  it("is not taken over for another origin, nor once it has launched", async () => {
    hold(now() - 3600, { heartbeat: `${now() - 5}\n`, origin: "abc0-def1/4243/777\n" });
    expect((await prepareReclaiming(ORIGIN)).code).toBe(3);
    const launcher = spawn("sleep", ["30"]);
    try {
      hold(now() - 3600, {
        origin: `${ORIGIN}\n`,
        "launcher.pid": `${identityOf(launcher.pid)}\n`,
      });
      expect((await prepareReclaiming(ORIGIN)).code).toBe(3);
    } finally {
      launcher.kill();
    }
  });
});
