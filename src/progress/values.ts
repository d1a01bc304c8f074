// Reading numbers, durations and `name: value` pairs the way training logs print them.

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const NON_FINITE = "[-+]?(?:nan|inf(?:inity)?)";
/** A printed value: a decimal number, or NaN/Inf spelled as Python, NumPy or JavaScript spell them. */
export const VALUE = `(?:${NUMBER}|${NON_FINITE})`;

const VALUE_ONLY = new RegExp(`^${VALUE}$`, "i");

/** Parses a printed number; undefined for anything else, so text never becomes a metric. */
export function parseValue(text: string): number | undefined {
  const trimmed = text.trim();
  if (!VALUE_ONLY.test(trimmed)) return undefined;
  const lower = trimmed.toLowerCase();
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity")) {
    return lower.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return Number(trimmed);
}

/** `25s`, `1.5s`, `02:15`, `1:02:03`, `150ms`; undefined for `?` and anything unknown. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  const units = /^(\d+(?:\.\d+)?)(ms|us|µs|s|m|h)$/.exec(t);
  if (units?.[1] !== undefined) {
    const scale: Record<string, number> = { ms: 1e-3, us: 1e-6, µs: 1e-6, s: 1, m: 60, h: 3600 };
    return Number(units[1]) * (scale[units[2] ?? "s"] ?? 1);
  }
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$/.exec(t);
  if (clock === null) return undefined;
  return Number(clock[1] ?? 0) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
}

/**
 * A value must end at a separator: `12.3s` is a duration, not the metric a user named, and a
 * version like `1.13.1` must not read as 1.13. A percentage (`accuracy=50.00%`) is kept as written:
 * 50, in percent, the number the user reads in their log.
 */
const PAIR = new RegExp(
  String.raw`(?<![\w.])([A-Za-z_][\w./-]*)\s*[:=]\s*(${VALUE})%?(?=$|[\s,;|)\]}])`,
  "gi",
);

/** Every `name: value` / `name=value` pair on a line, in order. */
export function findPairs(text: string): Array<{ name: string; value: number }> {
  const pairs: Array<{ name: string; value: number }> = [];
  for (const match of text.matchAll(PAIR)) {
    const name = match[1];
    const value = match[2] === undefined ? undefined : parseValue(match[2]);
    if (name !== undefined && value !== undefined) pairs.push({ name, value });
  }
  return pairs;
}

/** `36.50it/s` → 36.5, `4.47s/it` → 0.2237, `12ms/step` → 83.3; undefined for `?it/s` or byte rates. */
export function parseRate(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kKM]?)(it|step|batch|batches|steps)\/s$/.exec(text.trim());
  if (m !== null) {
    const scale = m[2] === "M" ? 1e6 : m[2] === "" ? 1 : 1e3;
    return Number(m[1]) * scale;
  }
  const per = /^(\d+(?:\.\d+)?)(us|µs|ms|s)\/(it|step|batch)$/.exec(text.trim());
  if (per === null || Number(per[1]) === 0) return undefined;
  // Divide the unit's count per second, so 12ms/step reads exactly 1000/12.
  const perSecond = per[2] === "s" ? 1 : per[2] === "ms" ? 1e3 : 1e6;
  return perSecond / Number(per[1]);
}
