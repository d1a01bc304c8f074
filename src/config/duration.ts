// Durations as people write them in offload.yaml and flags: `30s`, `5m`, `1h`, or a number of seconds.
import { lazySchema, z } from "./zod.js";

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds of `30s`, `5m`, `1.5h`, `90` (seconds); undefined when the text is none of these. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_SECONDS[match[2] ?? "s"] ?? 1);
}

/** A duration in offload.yaml, read as seconds. */
export const durationSchema = lazySchema(() =>
  z
    .union([z.number(), z.string()], { error: "expected a duration such as 30s, 5m or 1h" })
    .transform((value, ctx) => {
      const seconds = parseDuration(value);
      if (seconds === undefined || seconds <= 0) {
        ctx.addIssue({ code: "custom", message: "expected a duration such as 30s, 5m or 1h" });
        return z.NEVER;
      }
      return seconds;
    })
    .meta({ description: "A duration: 30s, 5m, 1h, or a number of seconds" }),
);
