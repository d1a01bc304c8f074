// Money before a cloud run (pure): the estimate, the refusals, when a budget stops the run, and where
// a price comes from (target, the user's price file, the versioned table).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { costSoFar, planCost } from "../../src/providers/cost.js";
import { findPrice, PRICE_TABLE } from "../../src/providers/prices.js";

const quote = (usdPerHour: number) => ({ usdPerHour, source: "price_per_hour" });

describe("planCost", () => {
  it("says the price and, with a budget, when the run stops (20% kept to stop and delete)", () => {
    const plan = planCost({ flavor: "gpu.h100.1", budgetUsd: 25 }, quote(2.5));
    // $25 at $2.50/h buys 10 h; the reserve is capped at 10 minutes.
    expect(plan.stopAfterSeconds).toBe(10 * 3600 - 600);
    expect(plan.estimate).toBe(
      "gpu.h100.1 at $2.50/h (price_per_hour); budget $25 buys 10 h: the run stops after 9 h 50 min",
    );
  });

  it("refuses a price over max_price_per_hour", () => {
    expect(() => planCost({ flavor: "f", maxPricePerHour: 2 }, quote(2.49))).toThrow(
      "f costs $2.49/h, over max_price_per_hour $2.00",
    );
  });

  it("refuses a budget or a maximum price it cannot check for want of a price", () => {
    expect(() => planCost({ flavor: "f", budgetUsd: 5 }, undefined)).toThrow(
      "no price is known for f",
    );
    expect(planCost({ flavor: "f" }, undefined).stopAfterSeconds).toBeUndefined();
  });

  it("refuses a max_duration the budget cannot pay", () => {
    expect(() =>
      planCost({ flavor: "f", budgetUsd: 5, maxDurationSeconds: 3 * 3600 }, quote(2.49)),
    ).toThrow("max_duration 3 h at $2.49/h costs $7.47, over the budget of $5.00");
  });

  it("counts the cost from when the machine was asked for", () => {
    expect(costSoFar(3.6, 0, 60_000)).toBeCloseTo(0.06, 10);
  });
});

describe("findPrice", () => {
  it("takes price_per_hour, then the user's price file, then the versioned table", () => {
    const dir = mkdtempSync(join(tmpdir(), "offload-prices-"));
    try {
      const file = join(dir, "prices.json");
      const env = { OFFLOAD_PRICES: file };
      expect(findPrice("lambda", "gpu_1x_h100_pcie", undefined, env)).toEqual({
        usdPerHour: PRICE_TABLE.prices.lambda?.gpu_1x_h100_pcie,
        source: `table ${PRICE_TABLE.version}`,
      });
      writeFileSync(file, JSON.stringify({ lambda: { gpu_1x_h100_pcie: 1.99 } }));
      expect(findPrice("lambda", "gpu_1x_h100_pcie", undefined, env)).toEqual({
        usdPerHour: 1.99,
        source: file,
      });
      expect(findPrice("lambda", "gpu_1x_h100_pcie", 3, env)?.usdPerHour).toBe(3);
      expect(findPrice("openstack", "gpu.h100.1", undefined, env)).toBeUndefined();
      writeFileSync(file, "[1]");
      expect(() => findPrice("openstack", "x", undefined, env)).toThrow("is not a JSON object");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
