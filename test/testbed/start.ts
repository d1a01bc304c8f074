// Owns choosing the richest bed this machine allows (netns, else loopback, else none) and saying why.

import { hasCommand } from "./command.js";
import { down } from "./down.js";
import { describeBed } from "./info.js";
import { otherLeases } from "./lock.js";
import { upLoopback } from "./loopback.js";
import { defaultNames, type TestbedNames } from "./names.js";
import type { TestbedInfo } from "./types.js";
import { up } from "./up.js";

/** Fault hosts every shared bed keeps: one per test file running at once (maxWorkers is at most 4). */
export const FAULT_HOSTS = 4;

/** Never throws for a missing capability: the reduced info carries the reason instead. */
export async function startTestbed(
  hosts: number,
  names: TestbedNames = defaultNames(),
): Promise<TestbedInfo> {
  const missingSsh = ["/usr/sbin/sshd", "ssh", "ssh-keygen"].filter((tool) => !hasCommand(tool));
  if (missingSsh.length > 0) {
    const reason = `no SSH test bed: ${missingSsh.join(", ")} missing (apt-get install openssh-server openssh-client); tests needing a host are skipped`;
    return describeBed(names, "none", [], reason);
  }
  const reduced = netnsBlocker();
  if (reduced === undefined) {
    try {
      const info = await upSharing(hosts, names);
      return hasCommand("nft")
        ? info
        : { ...info, reason: "nft missing (apt-get install nftables): dropHost/undropHost fail" };
    } catch (error) {
      if (otherLeases(names.stateDir).length > 0) {
        // Never take down a bed another live test run is using: its tests would fail mid-run.
        return describeBed(names, "none", [], `shared bed not serving: ${messageOf(error)}`);
      }
      down(names);
      return startLoopback(names, `namespaced bed failed, using loopback: ${messageOf(error)}`);
    }
  }
  return startLoopback(names, reduced);
}

/**
 * While other test runs share the bed, a host may be cut or dropped by one of their fault tests for a
 * few seconds: probe again rather than give up (or worse, tear the bed down under them).
 */
async function upSharing(hosts: number, names: TestbedNames): Promise<TestbedInfo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await up(hosts, names, FAULT_HOSTS);
    } catch (error) {
      if (attempt >= 4 || otherLeases(names.stateDir).length === 0) throw error;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
  }
}

async function startLoopback(names: TestbedNames, reason: string): Promise<TestbedInfo> {
  const full = `${reason}; only offload-h1 on 127.0.0.1: tests needing several hosts, namespaces or faults are skipped`;
  try {
    return await upLoopback(names, full);
  } catch (error) {
    down(names);
    return describeBed(
      names,
      "none",
      [],
      `${reason}; loopback sshd failed too: ${messageOf(error)}`,
    );
  }
}

/** Why namespaces cannot be used here, or undefined when they can be tried. */
function netnsBlocker(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: no network namespaces";
  const missing = ["ip", "nsenter", "unshare", "setsid"].filter((tool) => !hasCommand(tool));
  if (missing.length > 0)
    return `${missing.join(", ")} missing (apt-get install iproute2 util-linux)`;
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
