// A cloud machine for one run: priced and checked against the limits before it is asked for, made (or a
// kept one reused), set up once, watched by its dead-man switch, and deleted (or kept) afterwards.

import { dirname } from "node:path";
import type { CloudTarget } from "../config/cloud.js";
import { OffloadError } from "../errors.js";
import {
  buildArmScript,
  buildRearmScript,
  buildSetupScript,
  DEFAULT_POWER_OFF,
} from "../remote/machine.js";
import { pickAddress } from "./address.js";
import { type CostPlan, costSoFar, planCost } from "./cost.js";
import { ensureLoginKey } from "./host-key.js";
import { currentOwner, isOwnerAlive, Ledger, type LedgerEntry } from "./ledger.js";
import { runOnMachine, writeMachineSshConfig } from "./machine-ssh.js";
import { openProvider } from "./open.js";
import { findPrice, type PriceQuote } from "./prices.js";
import { type Machine, provisionMachine } from "./provision.js";
import { startMachine } from "./restart.js";
import { tearDown } from "./teardown.js";
import type { Provider } from "./types.js";

export interface LeaseRequest {
  targetName: string;
  target: CloudTarget;
  ledger?: Ledger;
  env?: NodeJS.ProcessEnv;
  /** Aborts creating and waiting (a Ctrl+C): the machine is deleted and E_INTERRUPTED goes up. */
  signal?: AbortSignal;
  /** Each wait, for people. */
  onWait?: (what: string) => void;
  /** What people should know: the estimate, a reused machine, setup. */
  onNote?: (text: string) => void;
  pollMs?: number;
  /** For a provider made elsewhere (tests); default the target's cloud with the user's credentials. */
  provider?: Provider;
}

export interface MachineCost {
  provider: string;
  tag: string;
  id: string;
  region?: string;
  flavor: string;
  usdPerHour?: number;
  priceSource?: string;
  /** USD from when the machine was asked for (or this run took a kept one) until now or its deletion. */
  costUsd?: number;
  kept: boolean;
}

/** How long the dead-man switch waits after offload last followed (re-armed at a third of it). */
const DEFAULT_DEAD_MAN_SECONDS = 30 * 60;

export class MachineLease {
  #released = false;

  constructor(
    readonly machine: Machine,
    readonly provider: Provider,
    readonly ledger: Ledger,
    readonly target: CloudTarget,
    readonly sshConfigFile: string,
    readonly plan: CostPlan,
    /** When the money started (ms since the epoch). */
    readonly since: number,
    /** When the machine was first asked for: the budget's and max_duration's clock. */
    readonly createdAt: number,
    /** Kept after the run (the target's `keep: true`, or a machine `offload up` made). */
    readonly keep: boolean = target.keep,
  ) {}

  /** The ssh host alias the run's transport uses with `sshConfigFile`. */
  get hostAlias(): string {
    return this.machine.tag;
  }

  get price(): PriceQuote | undefined {
    return this.plan.price;
  }

  /** When a budget makes the run stop (ms since the epoch): before it is spent, with time to delete. */
  get stopAt(): number | undefined {
    const after = this.plan.stopAfterSeconds;
    return after === undefined ? undefined : this.createdAt + after * 1000;
  }

  /** The latest the machine may live whatever happens (budget spent, max_duration), in epoch seconds. */
  private hardDeadline(): number {
    const limits: number[] = [];
    const rate = this.plan.price?.usdPerHour;
    if (this.target.budgetUsd !== undefined && rate !== undefined)
      limits.push(this.createdAt / 1000 + (this.target.budgetUsd / rate) * 3600);
    if (this.target.maxDurationSeconds !== undefined)
      limits.push(this.createdAt / 1000 + this.target.maxDurationSeconds);
    return limits.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...limits);
  }

  /** The dead-man deadline from now: the window while offload follows, never past the hard deadline. */
  private deadline(): number {
    const window = this.target.deadManSeconds ?? DEFAULT_DEAD_MAN_SECONDS;
    return Math.min(this.hardDeadline(), Date.now() / 1000 + window);
  }

  /** Seconds between re-arms while offload follows. */
  get rearmEveryMs(): number {
    return (Math.min(60, (this.target.deadManSeconds ?? DEFAULT_DEAD_MAN_SECONDS) / 3) * 1000) | 0;
  }

  costSoFar(): MachineCost {
    const rate = this.plan.price?.usdPerHour;
    const cost: MachineCost = {
      provider: this.provider.kind,
      tag: this.machine.tag,
      id: this.machine.id,
      flavor: this.target.flavor,
      kept: this.keep,
    };
    if (this.machine.region !== undefined) cost.region = this.machine.region;
    if (rate !== undefined && this.plan.price !== undefined) {
      cost.usdPerHour = rate;
      cost.priceSource = this.plan.price.source;
      cost.costUsd = Math.round(costSoFar(rate, this.since) * 10_000) / 10_000;
    }
    return cost;
  }

  /** Starts the watcher (dead-man deadline, idle rule of a kept machine). */
  async arm(): Promise<void> {
    const result = await runOnMachine(
      this.sshConfigFile,
      this.hostAlias,
      buildArmScript({
        deadline: this.deadline(),
        // No idle rule while a run holds it (a gap between two ssh sessions is not idleness): the
        // release of a kept machine sets it; a vanished offload is bounded by the deadline.
        idleSeconds: 0,
        powerOff: this.target.deadManCommand ?? DEFAULT_POWER_OFF,
        pollSeconds: Math.max(1, Math.min(5, Math.floor(this.rearmEveryMs / 3000))),
      }),
    );
    if (result.code !== 0) {
      throw new OffloadError(
        "E_MACHINE_FAILED",
        `could not arm the machine's dead-man switch (exit ${result.code}): ${result.stderr.trim()}`,
        {
          hint: "offload deleted the machine; check that the image has a POSIX sh, setsid and nohup",
        },
      );
    }
  }

  /** Moves the dead-man deadline on: offload still follows. Failures are left to the next re-arm. */
  async keepAlive(): Promise<boolean> {
    const result = await runOnMachine(
      this.sshConfigFile,
      this.hostAlias,
      buildRearmScript(this.deadline()),
      { timeoutMs: 20_000 },
    ).catch(() => undefined);
    return result?.code === 0;
  }

  /** Runs the target's `setup:` commands unless this machine already ran this list. */
  async setUp(
    onOutput: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<"ran" | "cached" | "none"> {
    if (this.target.setup.length === 0) return "none";
    let cached = false;
    const result = await runOnMachine(
      this.sshConfigFile,
      this.hostAlias,
      buildSetupScript(this.target.setup),
      {
        timeoutMs: 60 * 60_000,
        ...(signal === undefined ? {} : { signal }),
        onStderr: (chunk) => {
          const text = chunk.toString("utf8");
          if (text.includes("offload-setup-cached")) cached = true;
          else onOutput(text);
        },
      },
    );
    if (result.stdout !== "") onOutput(result.stdout);
    if (result.code !== 0) {
      throw new OffloadError(
        "E_MACHINE_FAILED",
        `the target's setup failed on the machine (exit ${result.code})`,
        {
          hint: "fix the `setup:` commands; each runs in `sh` as the image's user (use sudo for root)",
        },
      );
    }
    return cached ? "cached" : "ran";
  }

  /**
   * Deletes the machine and waits until the cloud says it is gone, or (keep: true) leaves it with its
   * idle rule armed. Throws E_MACHINE_LEAK when the deletion did not finish: the teardown is owed.
   */
  async release(onWait?: (what: string) => void): Promise<MachineCost> {
    if (this.#released) return this.costSoFar();
    this.#released = true;
    if (this.keep) {
      // Kept: no deadline of this run any more; the idle rule stops it. A hard limit still holds.
      const hard = this.hardDeadline();
      await runOnMachine(
        this.sshConfigFile,
        this.hostAlias,
        buildRearmScript(Number.isFinite(hard) ? hard : 0, this.target.idleStopSeconds ?? 0),
        { timeoutMs: 20_000 },
      ).catch(() => undefined);
      return this.costSoFar();
    }
    await tearDown(this.provider, this.ledger, this.machine.tag, {
      ...(onWait === undefined ? {} : { onWait }),
    });
    return this.costSoFar();
  }
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

/** A kept machine of this target that no live offload holds: started if stopped, taken over. */
async function takeKeptMachine(
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
