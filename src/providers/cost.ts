// Money before and during a run (pure): the estimate shown before create, the refusals (over budget,
// over max_price_per_hour, a budget with no price to hold it to), when a budget stops the run, and the
// cost so far.
import { OffloadError } from "../errors.js";
import type { PriceQuote } from "./prices.js";

export interface CostLimits {
  flavor: string;
  budgetUsd?: number | undefined;
  maxPricePerHour?: number | undefined;
  maxDurationSeconds?: number | undefined;
}

export interface CostPlan {
  price: PriceQuote | undefined;
  /** Seconds after the machine was asked for when the run is stopped, so the teardown fits the budget. */
  stopAfterSeconds?: number;
  /** What people read before the machine is made. */
  estimate: string;
}

/** The stop leaves this share of the budget's time (at most 10 minutes) to stop, download and delete. */
const RESERVE_SHARE = 0.2;
const RESERVE_MAX_SECONDS = 600;

/** Checks the limits and says what the machine will cost; throws E_CLOUD_CONFIG when a limit refuses. */
export function planCost(limits: CostLimits, price: PriceQuote | undefined): CostPlan {
  const { budgetUsd, maxPricePerHour, maxDurationSeconds } = limits;
  if (price === undefined) {
    if (budgetUsd !== undefined || maxPricePerHour !== undefined) {
      throw new OffloadError(
        "E_CLOUD_CONFIG",
        `no price is known for ${limits.flavor}, so offload cannot hold it to a budget or a maximum price`,
        { hint: "set `price_per_hour:` on the target (USD an hour), or add it to the price file" },
      );
    }
    return { price, estimate: `${limits.flavor}: price unknown (set price_per_hour to see costs)` };
  }
  const rate = price.usdPerHour;
  if (maxPricePerHour !== undefined && rate > maxPricePerHour) {
    throw new OffloadError(
      "E_CLOUD_CONFIG",
      `${limits.flavor} costs ${usd(rate)}/h, over max_price_per_hour ${usd(maxPricePerHour)}`,
      { hint: "pick a cheaper flavor, or raise max_price_per_hour" },
    );
  }
  const parts = [`${limits.flavor} at ${usd(rate)}/h (${price.source})`];
  if (maxDurationSeconds !== undefined) {
    const most = (rate * maxDurationSeconds) / 3600;
    parts.push(`at most ${usd(most)} over max_duration ${formatSeconds(maxDurationSeconds)}`);
    if (budgetUsd !== undefined && most > budgetUsd) {
      throw new OffloadError(
        "E_CLOUD_CONFIG",
        `max_duration ${formatSeconds(maxDurationSeconds)} at ${usd(rate)}/h costs ${usd(most)}, over the budget of ${usd(budgetUsd)}`,
        { hint: "raise `budget: {usd: …}` or shorten max_duration" },
      );
    }
  }
  const plan: CostPlan = { price, estimate: "" };
  if (budgetUsd !== undefined) {
    const budgetSeconds = (budgetUsd / rate) * 3600;
    const reserve = Math.min(RESERVE_MAX_SECONDS, budgetSeconds * RESERVE_SHARE);
    plan.stopAfterSeconds = budgetSeconds - reserve;
    parts.push(
      `budget ${usd(budgetUsd)} buys ${formatSeconds(budgetSeconds)}: the run stops after ${formatSeconds(plan.stopAfterSeconds)}`,
    );
  }
  plan.estimate = parts.join("; ");
  return plan;
}

/** USD spent on a machine asked for at `since` (ms since the epoch) until `until`. */
export function costSoFar(usdPerHour: number, since: number, until: number = Date.now()): number {
  return (usdPerHour * Math.max(0, until - since)) / 3_600_000;
}

export function usd(amount: number): string {
  return `$${amount < 10 ? amount.toFixed(2) : amount.toFixed(0)}`;
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
