// A cloud machine for one run: priced and checked against the limits before it is asked for, made (or a
// kept one reused), set up once, watched by its dead-man switch, and deleted (or kept) afterwards.

import type { CloudTarget } from "../config/cloud.js";
import { OffloadError } from "../errors.js";
import { planCost } from "./cost.js";
import { takeKeptMachine } from "./kept.js";
import { Ledger, type LedgerRun } from "./ledger.js";
import { MachineLease } from "./machine-lease.js";
import { writeMachineSshConfig } from "./machine-ssh.js";
import { openProvider } from "./open.js";
import { findPrice, type PriceQuote } from "./prices.js";
import { provisionMachine } from "./provision.js";
import type { Provider } from "./types.js";

export interface LeaseRequest {
  targetName: string;
  target: CloudTarget;
  /** The run the machine is made for, named in its ledger entry. */
  run?: LedgerRun;
  ledger?: Ledger;
  env?: NodeJS.ProcessEnv;
  /** Aborts creating and waiting (a Ctrl+C): the machine is deleted and E_INTERRUPTED goes up. */
  signal?: AbortSignal;
  /** Each wait, for people. */
  onWait?: (what: string) => void;
  /** What people should know: the estimate, a reused machine, setup. */
  onNote?: (text: string) => void;
  pollMs?: number;
  /** Only a kept machine will do (`run --no-wait`: nobody would be left to delete a new one). */
  keptOnly?: boolean;
  /** For a provider made elsewhere (tests); default the target's cloud with the user's credentials. */
  provider?: Provider;
}

/** Prices and checks the target, then makes (or reuses) its machine and arms it; deletes it on failure. */
export async function leaseMachine(request: LeaseRequest): Promise<MachineLease> {
  const { target } = request;
  const env = request.env ?? process.env;
  // Lambda launches its own image: it alone needs no `image:`.
  if (target.flavor === "" || (target.image === "" && target.cloud !== "lambda")) {
    throw new OffloadError(
      "E_CLOUD_CONFIG",
      `target ${request.targetName} has \`cloud: ${target.cloud}\` but no ${target.flavor === "" ? "flavor" : "image"}`,
      { hint: "set `flavor:` (the machine type) and `image:` on the target" },
    );
  }
  const provider =
    request.provider ??
    openProvider({
      kind: target.cloud,
      regions: target.regions,
      env,
      ...(target.providerOptions === undefined ? {} : { options: target.providerOptions }),
    });
  const plan = planCost(
    {
      flavor: target.flavor,
      budgetUsd: target.budgetUsd,
      maxPricePerHour: target.maxPricePerHour,
      maxDurationSeconds: target.maxDurationSeconds,
    },
    await priceOf(provider, target, env),
  );
  request.onNote?.(`machine: ${plan.estimate}`);
  const ledger = request.ledger ?? new Ledger();
  const since = Date.now();
  // A kept machine of this target (`keep: true`, or made by `offload up`) is used before a new one.
  const kept = await takeKeptMachine(provider, ledger, request);
  if (kept === undefined && request.keptOnly) throw noWaitWithoutMachine(request.targetName);
  const machine =
    kept ??
    (await provisionMachine(provider, ledger, {
      spec: {
        flavor: target.flavor,
        image: target.image,
        ...(target.network === undefined ? {} : { network: target.network }),
        name: `offload-${request.targetName}`,
      },
      user: target.user,
      target: request.targetName,
      ...(request.run === undefined ? {} : { run: request.run }),
      ...(target.providerOptions === undefined ? {} : { options: target.providerOptions }),
      keep: target.keep,
      // The probe trusts only the pinned key with offload's own login key: the user's config is not needed.
      sshConfig: "/dev/null",
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      ...(request.onWait === undefined ? {} : { onWait: request.onWait }),
      // A host key accepted on first use (Lambda) is said, not hidden.
      ...(request.onNote === undefined ? {} : { onNotice: request.onNote }),
      ...(request.pollMs === undefined ? {} : { pollMs: request.pollMs }),
      ...(target.createTimeoutSeconds === undefined
        ? {}
        : { runningTimeoutMs: target.createTimeoutSeconds * 1000 }),
      ...(target.sshTimeoutSeconds === undefined
        ? {}
        : { sshTimeoutMs: target.sshTimeoutSeconds * 1000 }),
    }));
  const entry = await ledger.read(machine.tag);
  const createdAt = kept ? since : Date.parse(entry?.createdAt ?? "") || since;
  const sshConfigFile = await writeMachineSshConfig(ledger, machine);
  const lease = new MachineLease(
    machine,
    provider,
    ledger,
    target,
    sshConfigFile,
    plan,
    kept ? since : createdAt,
    createdAt,
    target.keep || kept !== undefined,
  );
  try {
    await lease.arm();
  } catch (error) {
    await lease.release(request.onWait).catch(() => {});
    throw error;
  }
  // Watched from now on: a kept machine left by this offload stays kept (ledger.ts: unarmed).
  if (entry?.unarmed) await ledger.update(machine.tag, { unarmed: undefined });
  return lease;
}

/**
 * The target's price_per_hour or the user's price file; else the cloud's own live price where it has
 * one (Lambda's instance-types), which is newer than the repo's table; else the table.
 */
async function priceOf(
  provider: Provider,
  target: CloudTarget,
  env: NodeJS.ProcessEnv,
): Promise<PriceQuote | undefined> {
  const listed = findPrice(target.cloud, target.flavor, target.pricePerHour, env);
  if (listed !== undefined && !listed.source.startsWith("table")) return listed;
  const usdPerHour = await provider.pricePerHour?.(target.flavor).catch(() => undefined);
  if (usdPerHour === undefined) return listed;
  return { usdPerHour, source: `${provider.kind} live price` };
}

/** `run --no-wait` on a target that deletes its machines, with no kept machine free to run on. */
export function noWaitWithoutMachine(targetName: string): OffloadError {
  return new OffloadError(
    "E_USAGE",
    "--no-wait on a cloud target would leave its machine with nobody to delete it",
    {
      hint: `follow the run, run \`offload up ${targetName}\` first (a kept machine), or set \`keep: true\` (and \`idle_stop:\`) on the target`,
    },
  );
}
