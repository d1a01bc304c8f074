// Owns the describe block that brings the Slurm cluster up before its tests and always down after,
// or skips with a printed reason where it cannot exist (not root, packages missing).

import { afterAll, beforeAll, describe } from "vitest";
import { hasCommand } from "../../testbed/command.js";
import { downCluster, type SlurmCluster, upCluster } from "./cluster.js";

const TOOLS = [
  "/usr/sbin/slurmctld",
  "/usr/sbin/slurmd",
  "/usr/sbin/munged",
  "sbatch",
  "sinfo",
  "/usr/sbin/sshd",
  "ip",
  "nsenter",
  "unshare",
];

/** Why the cluster cannot be brought up here, or undefined. */
export function whySlurmUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: the Slurm cluster needs network namespaces";
  const missing = TOOLS.filter((tool) => !hasCommand(tool));
  if (missing.length > 0) {
    return `${missing.join(", ")} missing (apt-get install slurmctld slurmd slurm-client munge; test/system-deps.sh does it as root)`;
  }
  return undefined;
}

/** describe() with the cluster up around it; `cluster()` is valid inside tests and hooks. */
export function describeWithSlurm(name: string, fn: (cluster: () => SlurmCluster) => void): void {
  const why = whySlurmUnavailable();
  if (why !== undefined) {
    process.stderr.write(`[slurm] skipping "${name}": ${why}\n`);
    describe.skip(name, () => {});
    return;
  }
  describe(name, () => {
    let current: SlurmCluster | undefined;
    // A worker that exits without afterAll (a crash, a timeout) still takes the daemons down.
    // Only the describe that brought the cluster up takes it down: one that never got the lock (it
    // waited for another file's tests) must not kill the daemons under them.
    const onExit = (): void => {
      if (current !== undefined) downCluster();
    };
    beforeAll(async () => {
      process.once("exit", onExit);
      current = await upCluster();
    }, 480_000);
    afterAll(() => {
      process.removeListener("exit", onExit);
      if (current !== undefined) downCluster();
    }, 60_000);
    fn(() => {
      if (current === undefined) throw new Error("the Slurm cluster is not up");
      return current;
    });
  });
}
