// A prepare that holds its connection for the launch, run by the real sh on this machine: it waits
// only where it proved the last sync unchanged, runs the launch only on the go line with the very
// script it was given, and starts nothing when declined, cut off, or sent a stdin that is not whole.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildLaunchScript, type LaunchPlan } from "../../src/remote/launch.js";
import { LOCK_FILE, MARK, remoteRunDir, STDIN_END } from "../../src/remote/layout.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { SYNC_STAMP, type SyncProofRequest } from "../../src/remote/sync-proof.js";
import { execPrepare } from "../../src/session/held-launch.js";
import { LocalTransport } from "../../src/transport/local.js";
import { makeLaunchPlan } from "../support/launch-plan.js";

const SYNCED_BY = "20261201-120000-sync";
const RUN = "20261201-120005-held";
const transport = new LocalTransport();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload held 'q' "));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The remote dir as a sync left it, stamped long enough ago that the proof holds. */
function synced(): SyncProofRequest {
  mkdirSync(join(dir, ".offload"), { recursive: true });
  writeFileSync(join(dir, "train.py"), "print('hi')\n");
  writeFileSync(join(dir, SYNC_STAMP), `${SYNCED_BY}\n`);
  return { syncedBy: SYNCED_BY, remoteDir: dir, files: ["train.py"] };
}

function plan(command: string[]): LaunchPlan {
  return makeLaunchPlan({ runId: RUN, remoteDir: dir, command, sampleSeconds: 0 });
}

function prepareHolding(proof: SyncProofRequest | undefined, launch: string) {
  const lock = { runId: RUN, force: false, graceSeconds: 1 };
  return execPrepare(transport, buildPrepareScript(dir, lock, { proof, held: launch }), {
    launch,
  });
}

const runDir = () => join(dir, remoteRunDir(RUN));

describe("a prepare held for the launch", () => {
  it("waits where the host proved the sync unchanged, and runs the launch on the go line", async () => {
    const script = buildLaunchScript(plan(["sh", "-c", "cat train.py"]));
    const reply = await prepareHolding(synced(), script);
    expect(reply.result.stdout).toContain(`${MARK.dir} ${dir}\n`);
    expect(reply.held?.accepts(script)).toBe(true);
    // Another script than the one it holds for is refused here, before anything is sent.
    expect(reply.held?.accepts(`${script}\n`)).toBe(false);
    let log = "";
    const result = await reply.held?.run(`{"id":"${RUN}"}\n${STDIN_END}\n`, {
      onStdout: (chunk) => {
        log += chunk.toString();
      },
    });
    expect(log).toBe("print('hi')\n");
    expect(result?.stderr).toContain(`${MARK.exit} 0`);
    // Its stderr is the launch's: what the prepare said stayed with the prepare's reply.
    expect(result?.stderr).not.toContain(MARK.held);
    expect(reply.held?.accepts(script)).toBe(false);
  });

  it("hands off a job that outlives the launch's wait: it runs on, and the reply carries none of its log", async () => {
    const script = buildLaunchScript(plan(["sh", "-c", "sleep 1; echo done"]));
    const reply = await prepareHolding(synced(), script);
    let log = "";
    const result = await reply.held?.run(
      `{"id":"${RUN}"}\n${STDIN_END}\n`,
      {
        onStdout: (chunk) => {
          log += chunk.toString();
        },
      },
      true,
    );
    expect(result?.code).toBe(0);
    expect(result?.stderr).toContain(MARK.launched);
    expect(result?.stderr).toContain(MARK.handedOff);
    expect(result?.stderr).not.toContain(MARK.exit);
    expect(log).toBe("");
    // Still running after the reply: its follow is another stream's (session/follow.ts).
    expect(existsSync(join(runDir(), "exit"))).toBe(false);
    for (let i = 0; i < 100 && !existsSync(join(runDir(), "exit")); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readFileSync(join(runDir(), "output.log"), "utf8")).toBe("done\n");
  });

  it("exits at once, without waiting, where the proof does not hold", async () => {
    const proof = synced();
    writeFileSync(join(dir, SYNC_STAMP), "20261201-115959-othr\n");
    const reply = await prepareHolding(proof, buildLaunchScript(plan(["true"])));
    expect(reply.held).toBeUndefined();
    expect(reply.result.code).toBe(0);
    expect(reply.result.stderr).not.toContain(MARK.held);
    // The run stamped the dir for the sync it will make, under its lock.
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  it("starts nothing when declined, and keeps the lock for the sync and launch that follow", async () => {
    const script = buildLaunchScript(plan(["touch", "started"]));
    const reply = await prepareHolding(synced(), script);
    await reply.held?.decline();
    expect(reply.held?.accepts(script)).toBe(false);
    expect(existsSync(join(dir, "started"))).toBe(false);
    expect(existsSync(join(runDir(), "launcher.pid"))).toBe(false);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  it("starts nothing when the launch's stdin does not end whole, and frees the lock", async () => {
    const script = buildLaunchScript(plan(["touch", "started"]));
    const reply = await prepareHolding(synced(), script);
    const result = await reply.held?.run(`{"id":"${RUN}"}\n`, {});
    expect(result?.stderr).toContain(MARK.aborted);
    expect(existsSync(join(dir, "started"))).toBe(false);
    expect(existsSync(runDir())).toBe(false);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
