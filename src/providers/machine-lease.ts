// A machine leased for one run: its price and limits, the dead-man switch armed and moved on while
// offload follows, the target's `setup:` run once, and the deletion (or keeping) at the end.
import type { CloudTarget } from "../config/cloud.js";
import { OffloadError } from "../errors.js";
import {
  buildArmScript,
  buildRearmScript,
  buildSetupScript,
  DEFAULT_POWER_OFF,
} from "../remote/machine.js";
import type { RecordedMachine } from "../runs/record.js";
import { type CostPlan, costSoFar } from "./cost.js";
import type { Ledger } from "./ledger.js";
import { runOnMachine } from "./machine-ssh.js";
import type { PriceQuote } from "./prices.js";
import type { Machine } from "./provision.js";
import { tearDown } from "./teardown.js";
import type { Provider } from "./types.js";

/** What a machine cost so far: the record's shape (runs/record.ts), less why the run was stopped. */
export type MachineCost = Omit<RecordedMachine, "stoppedBy">;

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
