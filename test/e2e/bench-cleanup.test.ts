// The bench's clean-up on the shared bed removes the remote dirs of its own run, never another bench's.
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { newBenchPrefix, removeBenchDirs, sshArgv } from "../../bench/context.js";
import { describeWithHosts } from "../testbed/index.js";

describeWithHosts(1, "bench clean-up", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const onHost = (script: string): string =>
    execFileSync(sshArgv(bed.sshConfig, undefined)[0] ?? "ssh", [
      ...sshArgv(bed.sshConfig, undefined).slice(1),
      host,
      script,
    ]).toString();

  it("removes only the dirs named with this run's prefix, in the home and in /dev/shm", () => {
    const mine = newBenchPrefix();
    const other = newBenchPrefix();
    expect(mine).not.toBe(other);
    const dirs = [`${mine}-small`, `/dev/shm/${mine}-tree-0`, `${other}-dl`, `/dev/shm/${other}-x`];
    onHost(`mkdir -p ${dirs.join(" ")}`);
    try {
      removeBenchDirs(bed.sshConfig, host, mine);
      const left = onHost(
        `for d in ${dirs.join(" ")}; do [ -d "$d" ] && echo "$d"; done; true`,
      ).trim();
      expect(left.split("\n")).toEqual([`${other}-dl`, `/dev/shm/${other}-x`]);
    } finally {
      onHost(`rm -rf ${dirs.join(" ")}`);
    }
  });
});
