// Owns what test files use: the injected TestbedInfo and describe blocks that skip with a reason.

import { describe, inject } from "vitest";
import type { TestbedInfo } from "./types.js";

/** The bed the global setup brought up; mode "none" when it did not run. */
export function useTestbed(): TestbedInfo {
  const info = inject("testbed") as TestbedInfo | undefined;
  return (
    info ?? {
      mode: "none",
      hosts: [],
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
