// ssh to a machine as a user would after offload made it (only the pinned host key is trusted), and
// what the provider tests share around it.
import { spawnSync } from "node:child_process";
import type { Ledger } from "../../src/providers/ledger.js";
import type { Machine } from "../../src/providers/provision.js";
import { tearDown } from "../../src/providers/teardown.js";
import type { Provider } from "../../src/providers/types.js";

export function sshPinned(
  machine: Machine,
  command = "true",
  knownHostsFile = machine.knownHostsFile,
) {
  return spawnSync(
    "ssh",
    [
      "-F",
      "/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHostsFile}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "ConnectTimeout=5",
      "-i",
      machine.identityFile,
      `${machine.user}@${machine.address}`,
      command,
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
}

/** The pid of a process that has exited: an offload killed with -9. */
export function deadPid(): number {
  return spawnSync("true").pid ?? 999_999;
}

/** Deletes every machine a test left in the ledger (after a failed assertion, too): zero left. */
export async function tearDownLeftovers(provider: Provider, ledger: Ledger): Promise<void> {
  for (const entry of await ledger.list())
    await tearDown(provider, ledger, entry.tag, { pollMs: 50 });
}
