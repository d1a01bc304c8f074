// A kept machine (`keep: true`, or made by `offload up`) is used before a new one is made: one of the
// target's that no live offload holds, started if stopped, reused as it is if it still has its address.
import { dirname } from "node:path";
import { pickAddress } from "./address.js";
import { ensureLoginKey } from "./host-key.js";
import type { LeaseRequest } from "./lease.js";
import { currentOwner, isOwnerAlive, type Ledger, type LedgerEntry } from "./ledger.js";
import type { Machine } from "./provision.js";
import { startMachine } from "./restart.js";
import type { Provider } from "./types.js";

/** A kept machine of this target that no live offload holds: started if stopped, taken over. */
export async function takeKeptMachine(
  provider: Provider,
  ledger: Ledger,
  request: LeaseRequest,
): Promise<Machine | undefined> {
  const free = (await ledger.list()).filter(
    (e: LedgerEntry) =>
      e.keep &&
      e.state === "created" &&
      e.target === request.targetName &&
      e.provider === provider.kind &&
      e.id !== undefined &&
      !isOwnerAlive(e),
  );
  for (const entry of free) {
    if (entry.id === undefined) continue;
    const now = await provider.describe(entry.id, entry.region);
    if (now.state === "gone") {
      await ledger.remove(entry.tag);
      continue;
    }
    await ledger.update(entry.tag, { owner: currentOwner() });
    const options = {
      sshConfig: "/dev/null",
      ...(request.onWait === undefined ? {} : { onWait: request.onWait }),
      ...(request.pollMs === undefined ? {} : { pollMs: request.pollMs }),
    };
    if (now.state === "stopped") {
      request.onNote?.(`machine: starting the kept machine ${entry.tag}`);
      return await startMachine(provider, ledger, entry.tag, options);
    }
    if (now.state === "running" && pickAddress(now.addresses) === entry.address) {
      request.onNote?.(`machine: reusing the kept machine ${entry.tag}`);
      const loginKey = await ensureLoginKey(dirname(ledger.dir));
      return {
        tag: entry.tag,
        id: entry.id,
        region: entry.region,
        address: entry.address ?? "",
        user: entry.user ?? request.target.user,
        identityFile: loginKey.path,
        knownHostsFile: ledger.knownHostsPath(entry.tag),
      };
    }
  }
  return undefined;
}
