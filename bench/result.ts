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

/**
 * A time against Node's own start-up plus a multiple of a baseline (issue 17): pass when offload ≤
 * floor + limit × baseline, all three medians of the same run. The ratio shown is (offload − floor) ÷
 * baseline, which the limit bounds.
 */
export function compareAboveFloor(options: {
  measure: string;
  offload: number[];
  baseline: number[];
  floor: number[];
  limit: number;
  what: { offload: string; baseline: string };
  details?: Record<string, number>;
}): Result {
  const o = median(options.offload);
  const b = median(options.baseline);
  const f = median(options.floor);
  const allowed = f + options.limit * b;
  return {
    measure: options.measure,
    unit: "ms",
    offload: o,
    baseline: b,
    ratio: (o - f) / b,
    target: `≤ node + ${options.limit}× (${allowed.toFixed(0)} ms)`,
    pass: o <= allowed,
    what: options.what,
    details: { ...options.details, "node -e ''": f, allowed: Math.round(allowed) },
    samples: { offload: options.offload, baseline: options.baseline },
  };
}

/** A time against Node's own start-up plus a fixed allowance: pass when offload ≤ floor + `plusMs`. */
export function comparePlusFloor(options: {
  measure: string;
  offload: number[];
  floor: number[];
  plusMs: number;
  what: { offload: string; baseline: string };
  details?: Record<string, number>;
}): Result {
  const o = median(options.offload);
  const f = median(options.floor);
  return {
    measure: options.measure,
    unit: "ms",
    offload: o,
    baseline: f,
    ratio: o / f,
    target: `≤ node + ${options.plusMs} ms`,
    pass: o <= f + options.plusMs,
    what: options.what,
    details: { ...options.details, "offload − node": Math.round(o - f) },
    samples: { offload: options.offload, baseline: options.floor },
  };
}
