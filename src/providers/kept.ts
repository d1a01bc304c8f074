// A kept machine (`keep: true`, or made by `offload up`) is used before a new one is made: one of the
// target's that no live offload holds, started if stopped, reused as it is if it still has its address.
import { dirname } from "node:path";
import { pickAddress } from "./address.js";
import { ensureLoginKey } from "./host-key.js";
import type { LeaseRequest } from "./lease.js";
import { currentOwner, isOwnerAlive, type Ledger, type LedgerEntry } from "./ledger.js";
import type { Machine } from "./provision.js";
import { startMachine } from "./restart.js";
import type { MachineDescription, Provider } from "./types.js";

/** A kept machine of this target that no live offload holds: started if stopped, taken over. */
export async function takeKeptMachine(
  provider: Provider,
  ledger: Ledger,
  request: LeaseRequest,
): Promise<Machine | undefined> {
  const claimed = await oneAtATime(() => claimKeptMachine(provider, ledger, request));
  if (claimed === undefined) return undefined;
  const { entry, now } = claimed;
  if (entry.id === undefined) return undefined;
  const options = {
    sshConfig: "/dev/null",
    ...(request.onWait === undefined ? {} : { onWait: request.onWait }),
    ...(request.pollMs === undefined ? {} : { pollMs: request.pollMs }),
  };
  if (now.state === "stopped") {
    request.onNote?.(`machine: starting the kept machine ${entry.tag}`);
    return await startMachine(provider, ledger, entry.tag, options);
  }
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

/** Claims in this process go one at a time: the N nodes of a job must never take the same machine. */
let claiming: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(claim: () => Promise<T>): Promise<T> {
  const turn = claiming.then(claim);
  claiming = turn.catch(() => undefined);
  return turn;
}

/** Takes over (ledger owner) the first free kept machine that is stopped, or running where it was. */
async function claimKeptMachine(
  provider: Provider,
  ledger: Ledger,
  request: LeaseRequest,
): Promise<{ entry: LedgerEntry; now: MachineDescription } | undefined> {
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
    if (now.state === "stopped") return { entry, now };
    if (now.state === "running" && pickAddress(now.addresses) === entry.address)
      return { entry, now };
  }
  return undefined;
}
