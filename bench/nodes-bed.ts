// The bed of the multi-host benches (bench/measure-nodes.ts, bench/profile-nodes.ts): N hosts on a
// bridge and /24 of their own, never the shared test bed's hosts.
import { spawnSync } from "node:child_process";
import { down, type TestbedInfo, type TestbedNames, up } from "../test/testbed/index.js";
import { describeBed } from "../test/testbed/info.js";
import { clientFiles, hostName } from "../test/testbed/names.js";

export const BED: TestbedNames = {
  stateDir: "/var/tmp/offload-nodes-bench",
  bridge: "nodes-br0",
  hostPrefix: "offload-n",
  vethPrefix: "veth-nb",
  nftTable: "offload_nodes_bench",
  subnet: "10.202.1",
};

/**
 * Brings the bed up four hosts at a time. Under load the bed's own check (a handshake with every host
 * at once, 5 s cap) can fail with every sshd up and serving: each host is then asked alone, with time
 * to answer. A bed that does not come up is taken down.
 */
export async function bringUp(count: number): Promise<TestbedInfo> {
  try {
    for (let step = 4; step < count; step += 4) await up(step, BED).catch(() => undefined);
    return await up(count, BED);
  } catch (error) {
    const hosts = Array.from({ length: count }, (_, i) => hostName(BED, i + 1));
    const { sshConfig } = clientFiles(BED);
    const ask = (host: string) =>
      spawnSync("ssh", ["-F", sshConfig, "-o", "ConnectTimeout=30", host, "true"], {
        stdio: "ignore",
        timeout: 60_000,
      }).status === 0;
    if (hosts.every(ask)) return describeBed(BED, "netns", hosts);
    down(BED);
    throw error;
  }
}

/** Takes the bed down (its sshds, namespaces, bridge). */
export function takeDown(): void {
  down(BED);
}

/** argv of `offload run --quiet -- true` across `hosts` with the build at `cli` (its bin/offload.js). */
export function runTrueArgv(
  cli: string,
  sshConfig: string,
  hosts: readonly string[],
  remoteDir: string,
): string[] {
  return [
    process.execPath,
    cli,
    "run",
    "--quiet",
    "--ssh-config",
    sshConfig,
    "--host",
    hosts.join(","),
    "--remote-dir",
    remoteDir,
    "--",
    "true",
  ];
}
