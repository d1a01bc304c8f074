// Making a machine without ever losing track of it: intent in the ledger before create, regions tried
// in order on capacity, the id recorded as soon as heard, running with an address, host key pinned,
// sshd answering; on any failure the machine is torn down before the error goes up.
import { readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { OffloadError } from "../errors.js";
import { type PickOptions, pickAddress } from "./address.js";
import {
  buildUserData,
  ensureLoginKey,
  generateKeyPair,
  knownHostsLine,
  publicKeyBody,
} from "./host-key.js";
import { currentOwner, type Ledger, type LedgerRun, newTag } from "./ledger.js";
import type { CloudOptions } from "./open.js";
import { waitForSsh } from "./ready.js";
import { createInSomeRegion } from "./regions.js";
import { defaultSleep } from "./retry.js";
import { tearDown } from "./teardown.js";
import type { MachineSpec, Provider } from "./types.js";
import { abortableSleep, throwIfAborted, withOptional } from "./waits.js";

export interface ProvisionRequest {
  spec: Omit<MachineSpec, "region" | "userData">;
  /** The image's login user. */
  user: string;
  target?: string;
  /** The run the machine is made for (ledger.ts: LedgerEntry.run). */
  run?: LedgerRun;
  /** The target's provider section, recorded in the ledger so a later command reaches the machine. */
  options?: CloudOptions;
  keep?: boolean;
  address?: PickOptions;
  /** Where offload keeps its login key; default the ledger's parent (the user state dir). */
  stateDir?: string;
  /** ssh config for the readiness probe (`/dev/null`: none). */
  sshConfig?: string;
  /** Waiting until running with an address (default 15 min) and until ssh answers (default 5 min). */
  runningTimeoutMs?: number;
  sshTimeoutMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Each wait says what it waits for. */
  onWait?: (what: string) => void;
  /** Things a user should know that are not waits (a host key accepted on first use). */
  onNotice?: (text: string) => void;
  /** Aborted (a Ctrl+C while creating or waiting): the machine is deleted and the error goes up. */
  signal?: AbortSignal;
}

export interface Machine {
  tag: string;
  id: string;
  region: string | undefined;
  address: string;
  user: string;
  identityFile: string;
  knownHostsFile: string;
}

/** Creates, waits and pins; returns a machine ssh reaches with the pinned key, or tears it down and throws. */
export async function provisionMachine(
  provider: Provider,
  ledger: Ledger,
  request: ProvisionRequest,
): Promise<Machine> {
  const tag = newTag();
  const loginKey = await ensureLoginKey(request.stateDir ?? dirname(ledger.dir));
  const firstUse = provider.hostKeys === "first-use";
  const hostKey = firstUse ? undefined : await generateKeyPair(tag);
  const userData =
    hostKey === undefined ? undefined : buildUserData({ hostKey, loginKeys: [loginKey.publicKey] });
  await ledger.write({
    tag,
    provider: provider.kind,
    ...(request.target === undefined ? {} : { target: request.target }),
    ...(request.run === undefined ? {} : { run: request.run }),
    ...(request.options === undefined ? {} : { options: request.options }),
    state: "intent",
    keep: request.keep ?? false,
    ...(request.keep ? { unarmed: true as const } : {}),
    createdAt: new Date().toISOString(),
    owner: currentOwner(),
    user: request.user,
    ...(hostKey === undefined ? {} : { hostKey: publicKeyBody(hostKey.publicKey) }),
  });
  // Waits end early on abort; the teardown after it keeps the caller's own (unabortable) sleep.
  const waiting = {
    ...request,
    sleep: abortableSleep(request.sleep ?? defaultSleep, request.signal),
  };
  try {
    const login = { user: request.user, publicKey: loginKey.publicKey };
    throwIfAborted(request.signal);
    const { id, region, running } = await createInSomeRegion(
      provider,
      ledger,
      tag,
      { ...request.spec, login, ...(userData === undefined ? {} : { userData }) },
      waiting,
    );
    throwIfAborted(request.signal);
    const address = pickAddress(running.addresses, request.address);
    if (address === undefined) throw new Error("unreachable: running without an address");
    const knownHostsFile = ledger.knownHostsPath(tag);
    await writeFile(
      knownHostsFile,
      hostKey === undefined ? "" : `${knownHostsLine(address, hostKey.publicKey)}\n`,
      { mode: 0o600 },
    );
    await ledger.update(tag, { address });
    const endpoint = { address, user: request.user, identityFile: loginKey.path, knownHostsFile };
    request.onWait?.(`ssh on ${address}`);
    await waitForSsh(
      {
        ...endpoint,
        ...(request.sshConfig === undefined ? {} : { sshConfig: request.sshConfig }),
        ...(firstUse ? { acceptNewHostKey: true } : {}),
      },
      withOptional({
        timeoutMs: request.sshTimeoutMs,
        sleep: waiting.sleep,
        onWait: request.onWait,
      }),
    );
    if (firstUse) await pinFirstHostKey(ledger, tag, address, request);
    throwIfAborted(request.signal);
    return { tag, id, region, ...endpoint };
  } catch (error) {
    await tearDownAfter(error, provider, ledger, tag, request);
    throw error;
  }
}

/**
 * A cloud without user data (Lambda) cannot be given a host key: ssh accepted the first key the new
 * machine showed (accept-new, into its own empty known_hosts); that key is recorded in the ledger and is
 * the only one trusted from now on. Said out loud, since it is trust on first use.
 */
async function pinFirstHostKey(
  ledger: Ledger,
  tag: string,
  address: string,
  request: ProvisionRequest,
): Promise<void> {
  const file = ledger.knownHostsPath(tag);
  const line = (await readFile(file, "utf8")).split("\n").find((l) => l.trim() !== "");
  const key = line?.trim().split(/\s+/).slice(1, 3).join(" ");
  if (key === undefined || key === "") {
    throw new OffloadError("E_HOST_KEY_CHANGED", `ssh recorded no host key for ${address}`);
  }
  await writeFile(file, `${knownHostsLine(address, key)}\n`, { mode: 0o600 });
  await ledger.update(tag, { hostKey: key, hostKeyFirstUse: true });
  request.onNotice?.(
    `accepted the host key ${key.slice(0, 40)}… that the new machine ${tag} showed on first use (the cloud takes no user data to give it one); it is pinned from now on`,
  );
}

/** Deletes what a failed provisioning made; if that fails too, both reasons go up as a leak. */
async function tearDownAfter(
  error: unknown,
  provider: Provider,
  ledger: Ledger,
  tag: string,
  request: ProvisionRequest,
): Promise<void> {
  try {
    await tearDown(
      provider,
      ledger,
      tag,
      withOptional({ pollMs: request.pollMs, sleep: request.sleep, onWait: request.onWait }),
    );
  } catch (leak) {
    const why = error instanceof Error ? error.message : String(error);
    throw new OffloadError(
      "E_MACHINE_LEAK",
      `${leak instanceof Error ? leak.message : String(leak)}; it was being deleted because: ${why}`,
      { hint: (leak as { hint?: string }).hint ?? "run `offload machines`", cause: error },
    );
  }
}
