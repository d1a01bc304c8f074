// Owns what test files use: the injected TestbedInfo and describe blocks that skip with a reason.

import { afterAll, beforeAll, describe, expect, inject, onTestFinished } from "vitest";
import { acquireFaultHost, releaseFaultHost } from "./fault-lease.js";
import { resetFaultHost } from "./faults.js";
import type { TestbedInfo } from "./types.js";

/** The bed the global setup brought up; mode "none" when it did not run. */
export function useTestbed(): TestbedInfo {
  const info = inject("testbed") as TestbedInfo | undefined;
  return (
    info ?? {
      mode: "none",
      hosts: [],
      faultHosts: [],
      sshConfig: "",
      knownHosts: "",
      identityFile: "",
      stateDir: "",
      reason: "the vitest global setup (test/global-setup.ts) did not run",
    }
  );
}

export interface HostNeeds {
  /** Needs namespaces (faults, execInHost, processesInHost); implied by more than one host. */
  netns?: boolean;
}

/** Why a block needing `n` hosts cannot run on this bed, or undefined when it can. */
export function whyUnavailable(
  info: TestbedInfo,
  n: number,
  needs: HostNeeds = {},
): string | undefined {
  const because = info.reason === undefined ? "" : ` (${info.reason})`;
  if (info.mode === "none") return `no SSH test bed${because}`;
  if ((needs.netns === true || n > 1) && info.mode !== "netns") {
    return `needs the namespaced bed, have ${info.mode}${because}`;
  }
  if (info.hosts.length < n) {
    return `needs ${n} hosts, have ${info.hosts.length} (set OFFLOAD_TB_HOSTS=${n})`;
  }
  return undefined;
}

/** describe() when the bed has n hosts (and namespaces if asked), else describe.skip + the reason. */
export function describeWithHosts(
  n: number,
  name: string,
  fn: (info: TestbedInfo) => void,
  needs: HostNeeds = {},
): void {
  const info = useTestbed();
  const why = whyUnavailable(info, n, needs);
  if (why === undefined) {
    describe(name, () => fn(info));
    return;
  }
  process.stderr.write(`[testbed] skipping "${name}": ${why}\n`);
  describe.skip(name, () => {});
}

/**
 * Inside a test: a fault host of the pool, this test's alone until it ends (then reset and given
 * back). Waits while other test files hold all of them. Cut, drop, slow, kill sessions, mount or
 * reconfigure only such a host: the calm ones (`hosts`) are shared by every file running at once.
 */
export async function leaseFaultHost(): Promise<string> {
  const info = useTestbed();
  let ended = false;
  let leased: string | undefined;
  onTestFinished(async () => {
    ended = true;
    if (leased !== undefined) await giveBack(info, leased);
  });
  const taken = await acquireFaultHost(info.stateDir, info.faultHosts, {
    holder: expect.getState().currentTestName ?? "a test",
    cancelled: () => ended,
  });
  // The test may have ended (timed out) between the lease and here: its hook saw nothing to give back.
  if (taken !== undefined && ended) releaseFaultHost(info.stateDir, taken);
  if (taken === undefined || ended)
    throw new Error("the test ended while it waited for a fault host");
  leased = taken;
  await resetFaultHost(leased);
  return leased;
}

/**
 * At describe level: one fault host for all the block's tests (for set-up in beforeAll that the
 * tests share), leased before them and reset and given back after its other afterAll hooks.
 * Read `.host` inside hooks and tests.
 */
export function useFaultHost(): { readonly host: string } {
  const info = useTestbed();
  let leased: string | undefined;
  let ended = false;
  beforeAll(async () => {
    const taken = await acquireFaultHost(info.stateDir, info.faultHosts, {
      holder: `a describe block of ${expect.getState().testPath ?? "a test file"}`,
      cancelled: () => ended,
    });
    if (taken === undefined) return;
    // The block may have ended (a timed-out hook) between the lease and here.
    if (ended) return releaseFaultHost(info.stateDir, taken);
    leased = taken;
    await resetFaultHost(leased);
  });
  // Registered first, so it runs last: after-hooks run in reverse order (vitest's default 'stack').
  afterAll(async () => {
    ended = true;
    if (leased !== undefined) await giveBack(info, leased);
  });
  return {
    get host(): string {
      if (leased === undefined) throw new Error("useFaultHost(): no fault host leased (yet)");
      return leased;
    },
  };
}

async function giveBack(info: TestbedInfo, host: string): Promise<void> {
  try {
    await resetFaultHost(host);
  } finally {
    releaseFaultHost(info.stateDir, host);
  }
}
