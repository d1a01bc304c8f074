// Asking the cloud for the machine: each region in turn (a capacity error, at create or as the server's
// fault, moves on), a create answered with a transient error looked for by its tag before it is asked
// again, then polled with backoff until it runs with an address.
import { OffloadError } from "../errors.js";
import { pickAddress } from "./address.js";
import { isProviderError, isRetryable, ProviderError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import type { ProvisionRequest } from "./provision.js";
import { defaultSleep } from "./retry.js";
import { terminateUntilGone } from "./teardown.js";
import type { MachineDescription, MachineSpec, Provider } from "./types.js";
import { withOptional } from "./waits.js";

export interface Created {
  id: string;
  region: string | undefined;
  running: MachineDescription;
}

/** Tries each region in turn; a capacity error (at create, or as the server's fault) moves on. */
export async function createInSomeRegion(
  provider: Provider,
  ledger: Ledger,
  tag: string,
  spec: MachineSpec,
  request: ProvisionRequest,
): Promise<Created> {
  const regions = provider.regions.length > 0 ? provider.regions : [undefined];
  const faults: string[] = [];
  for (const region of regions) {
    await ledger.update(tag, region === undefined ? {} : { region });
    const id = await createOnce(
      provider,
      tag,
      region === undefined ? spec : { ...spec, region },
      request,
    );
    if (id === undefined) {
      faults.push(`${region ?? "default region"}: no capacity`);
      continue;
    }
    await ledger.update(tag, { id, state: "created" });
    const running = await waitUntilRunning(provider, id, region, request);
    if (running.state === "running") return { id, region, running };
    if (running.faultIsQuota === true) {
      throw new ProviderError("quota", `the cloud refused machine ${id}: ${running.fault}`);
    }
    if (running.faultIsCapacity !== true) {
      throw new OffloadError(
        "E_MACHINE_FAILED",
        `the machine ${id} failed to start in ${region ?? "the default region"}: ${running.fault ?? running.rawState}`,
        {
          hint: "check the flavor and image in the cloud's console; offload deleted the machine",
        },
      );
    }
    faults.push(`${region ?? "default region"}: ${running.fault ?? "no capacity"}`);
    request.onWait?.(
      `another region: ${region} has no capacity (${running.fault ?? running.rawState})`,
    );
    // The failed server holds the tag too: delete it before the next region's create.
    await terminateUntilGone(
      provider,
      id,
      region,
      withOptional({ pollMs: request.pollMs, sleep: request.sleep, onWait: request.onWait }),
    );
    await ledger.update(tag, { state: "intent", id: undefined });
  }
  throw new OffloadError(
    "E_CLOUD_CAPACITY",
    `no region had capacity for ${spec.flavor}: ${faults.join("; ")}`,
    {
      hint: "add regions to the target's `region:` list, pick another flavor, or try again later",
    },
  );
}

/** The id, or undefined on a capacity refusal. A transient failure may have created it: look for the tag. */
async function createOnce(
  provider: Provider,
  tag: string,
  spec: MachineSpec,
  request: ProvisionRequest,
): Promise<string | undefined> {
  const sleep = request.sleep ?? defaultSleep;
  let pause = request.pollMs ?? 1_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await provider.create(spec, tag);
    } catch (error) {
      if (isProviderError(error, "capacity")) return undefined;
      if (!isRetryable(error) || attempt >= 4) throw error;
      const made = (await provider.list(tag)).find(
        (m) => m.region === undefined || m.region === spec.region,
      );
      if (made !== undefined) return made.id;
      request.onWait?.(`the cloud to accept the create again (${error.message})`);
      await sleep(error.retryAfterMs ?? pause);
      pause *= 2;
    }
  }
}

export type WaitOptions = Pick<
  ProvisionRequest,
  "address" | "runningTimeoutMs" | "pollMs" | "sleep" | "onWait"
>;

/** Polls with backoff until running with an address, or error, or the timeout. */
export async function waitUntilRunning(
  provider: Provider,
  id: string,
  region: string | undefined,
  request: WaitOptions,
): Promise<MachineDescription> {
  const sleep = request.sleep ?? defaultSleep;
  const deadline = Date.now() + (request.runningTimeoutMs ?? 15 * 60_000);
  let pause = request.pollMs ?? 1_000;
  for (;;) {
    const now = await provider.describe(id, region);
    if (now.state === "error" || now.state === "gone") return now;
    const address = pickAddress(now.addresses, request.address);
    if (now.state === "running" && address !== undefined) return now;
    if (Date.now() + pause > deadline) {
      throw new OffloadError(
        "E_MACHINE_FAILED",
        `the machine ${id} was still ${now.rawState}${now.state === "running" ? " without an address" : ""} after the wait`,
        {
          hint: "offload deleted it; the cloud may be slow (raise the target's `create_timeout`), or its network gives the machine no address offload can reach",
        },
      );
    }
    request.onWait?.(`machine ${id} to run with an address (${now.rawState})`);
    await sleep(pause);
    pause = Math.min(pause * 2, 10_000);
  }
}
