// One measured line of the report: offload's median beside its baseline's, the ratio and the target.
import { median } from "./tools.js";

export interface Result {
  measure: string;
  unit: string;
  /** Median of offload's samples. */
  offload: number;
  /** Median of the baseline's samples. */
  baseline?: number;
  /** offload ÷ baseline: times (lower is better) or throughputs (higher is better). */
  ratio?: number;
  target: string;
  pass: boolean;
  /** What each number is. */
  what: { offload: string; baseline?: string };
  /** Secondary medians (offload's whole-command wall time, its phases…), for the analysis. */
  details: Record<string, number>;
  samples: { offload: number[]; baseline?: number[] };
}

/** Samples of named quantities gathered over the rounds, summarised by their medians. */
export class Samples {
  readonly #values = new Map<string, number[]>();

  add(name: string, value: number | undefined): void {
    if (value === undefined || Number.isNaN(value)) return;
    const list = this.#values.get(name) ?? [];
    list.push(value);
    this.#values.set(name, list);
  }

  get(name: string): number[] {
    return this.#values.get(name) ?? [];
  }

  medians(names: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of names) {
      const values = this.get(name);
      if (values.length > 0) out[name] = Math.round(median(values) * 10) / 10;
    }
    return out;
  }
}

/** A time compared with a baseline time: pass when offload ÷ baseline ≤ `limit`. */
export function compareTimes(options: {
  measure: string;
  offload: number[];
  baseline: number[];
  limit: number;
  what: { offload: string; baseline: string };
  details?: Record<string, number>;
}): Result {
  const o = median(options.offload);
  const b = median(options.baseline);
  const ratio = o / b;
  return {
    measure: options.measure,
    unit: "ms",
    offload: o,
    baseline: b,
    ratio,
    target: `≤ ${options.limit}×`,
    pass: ratio <= options.limit,
    what: options.what,
    details: options.details ?? {},
    samples: { offload: options.offload, baseline: options.baseline },
  };
}
