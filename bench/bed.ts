// The bench's share of the SSH test bed: a lease while it measures; down afterwards only when the bench
// brought it up and no other run holds a lease.
import { downUnlocked } from "../test/testbed/down.js";
import { addLease, dropLease, otherLeases, withLockSync } from "../test/testbed/lock.js";
import { defaultNames, hostDir } from "../test/testbed/names.js";
import { isGone } from "../test/testbed/procfs.js";
import { readSshdPid } from "../test/testbed/sshd.js";
import { startTestbed } from "../test/testbed/start.js";
import { readState } from "../test/testbed/state.js";
import type { TestbedInfo } from "../test/testbed/types.js";

const HOSTS = 2;

export interface BenchBed {
  info: TestbedInfo;
  release(): void;
}

/** Whether host 1's sshd is running now (the bed was up before the bench). */
function isBedUp(): boolean {
  const names = defaultNames();
  if (readState(names.stateDir) === undefined) return false;
  const pid = readSshdPid(hostDir(names, 1));
  return pid !== undefined && !isGone(pid);
}

export async function acquireBed(): Promise<BenchBed> {
  const names = defaultNames();
  const wasUp = isBedUp();
  addLease(names.stateDir, HOSTS);
  // Never fewer hosts than another lease asked for: that would pull hosts from under a test run.
  const info = await startTestbed(Math.max(HOSTS, ...otherLeases(names.stateDir)), names);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    dropLease(names.stateDir);
    if (wasUp) return;
    withLockSync(names.stateDir, () => {
      if (otherLeases(names.stateDir).length === 0) downUnlocked(names);
    });
  };
  process.once("exit", release);
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => {
      release();
      process.exit(130);
    });
  if (info.mode === "none" || info.hosts.length === 0) {
    release();
    throw new Error(`no test bed: ${info.reason ?? "unknown reason"}`);
  }
  return { info, release };
}
