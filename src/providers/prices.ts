// What a machine costs an hour: the target's `price_per_hour`, else the user's price file, else the
// table below. The table is versioned: a run records which version (or which file) priced it.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { OffloadError } from "../errors.js";

/**
 * On-demand list prices in USD an hour, by provider and machine type, as the providers published them
 * on `checked`. Clouds change prices and discounts apply: set `price_per_hour` on a target, or keep your
 * own table in the price file, when yours differ.
 */
export const PRICE_TABLE = {
  version: "2026-12-01",
  checked: "2026-12-01",
  prices: {
    lambda: {
      gpu_1x_a10: 0.75,
      gpu_1x_a100_sxm4: 1.29,
      gpu_1x_h100_pcie: 2.49,
      gpu_8x_a100_80gb_sxm4: 14.32,
      gpu_8x_h100_sxm5: 23.92,
    },
    gcp: {
      "g2-standard-4": 0.71,
      "a2-highgpu-1g": 3.67,
      "a3-highgpu-8g": 88.25,
    },
    openstack: {},
  } as Record<string, Record<string, number>>,
};

export interface PriceQuote {
  usdPerHour: number;
  /** Where the price came from: `price_per_hour`, the price file's path, or `table <version>`. */
  source: string;
}

/** $OFFLOAD_PRICES, else $XDG_CONFIG_HOME/offload/prices.json (same shape as PRICE_TABLE.prices). */
export function priceFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OFFLOAD_PRICES) return env.OFFLOAD_PRICES;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(config, "offload", "prices.json");
}

/** The price of `flavor` in `provider`; undefined where nobody knows it. */
export function findPrice(
  provider: string,
  flavor: string,
  pricePerHour: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): PriceQuote | undefined {
  if (pricePerHour !== undefined) return { usdPerHour: pricePerHour, source: "price_per_hour" };
  const file = priceFilePath(env);
  const own = readPriceFile(file)?.[provider]?.[flavor];
  if (own !== undefined) return { usdPerHour: own, source: file };
  const listed = PRICE_TABLE.prices[provider]?.[flavor];
  if (listed !== undefined) return { usdPerHour: listed, source: `table ${PRICE_TABLE.version}` };
  return undefined;
}

function readPriceFile(path: string): Record<string, Record<string, number>> | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, Record<string, number>>;
  } catch {}
  throw new OffloadError("E_CONFIG_VALUE", `the price file ${path} is not a JSON object`, {
    hint: 'write it as {"openstack": {"gpu.h100.1": 2.49}}',
  });
}
