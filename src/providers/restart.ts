// Starting a stopped machine again (seed 000: stop to save money, start when ready): its address is
// read afresh (a restart may give a new one), the pinned host key moves with it, ssh answers.

import { writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { OffloadError } from "../errors.js";
import { pickAddress } from "./address.js";
import { ensureLoginKey, knownHostsLine } from "./host-key.js";
import type { Ledger } from "./ledger.js";
import type { Machine } from "./provision.js";
import { waitForSsh } from "./ready.js";
import { type WaitOptions, waitUntilRunning } from "./regions.js";
import type { Provider } from "./types.js";
import { withOptional } from "./waits.js";

export interface StartOptions extends WaitOptions {
  sshConfig?: string;
  sshTimeoutMs?: number;
}

/** Starts the machine `tag` and returns it as ssh reaches it now (never by a stale address). */
export async function startMachine(
  provider: Provider,
  ledger: Ledger,
  tag: string,
  options: StartOptions = {},
): Promise<Machine> {
  const entry = await ledger.read(tag);
  if (entry?.id === undefined || entry.hostKey === undefined || provider.start === undefined) {
    throw new OffloadError("E_USAGE", `machine ${tag} cannot be started by offload`, {
      hint: "`offload machines` lists the machines offload made and their state",
    });
  }
  await provider.start(entry.id, entry.region);
  const running = await waitUntilRunning(provider, entry.id, entry.region, options);
  const address =
    running.state === "running" ? pickAddress(running.addresses, options.address) : undefined;
  if (address === undefined) {
    throw new OffloadError(
      "E_MACHINE_FAILED",
      `machine ${tag} did not start: ${running.fault ?? running.rawState}`,
    );
  }
  if (address !== entry.address) {
    options.onWait?.(`the new address ${address} (was ${entry.address ?? "none"})`);
    // The host key stays the machine's own; only the address it is pinned for changes.
    await writeFile(ledger.knownHostsPath(tag), `${knownHostsLine(address, entry.hostKey)}\n`, {
      mode: 0o600,
    });
    await ledger.update(tag, { address });
  }
  const loginKey = await ensureLoginKey(dirname(ledger.dir));
  const endpoint = {
    address,
    user: entry.user ?? "root",
    identityFile: loginKey.path,
    knownHostsFile: ledger.knownHostsPath(tag),
  };
  await waitForSsh(
    { ...endpoint, ...(options.sshConfig === undefined ? {} : { sshConfig: options.sshConfig }) },
    withOptional({ timeoutMs: options.sshTimeoutMs, sleep: options.sleep, onWait: options.onWait }),
  );
  return { tag, id: entry.id, region: entry.region, ...endpoint };
}
