// `RESULT_*` summary lines (seed 004): `RESULT_ACC=0.93` and `RESULT_HLB elapsed_seconds=12.3 acc=0.94`.
import type { ParsedEvent } from "./types.js";
import { findPairs, parseValue } from "./values.js";

const SINGLE = /^RESULT_([A-Za-z0-9_]+)\s*[=:]\s*(\S+)$/;
const GROUP = /^RESULT_([A-Za-z0-9_]+)\s+(.+)$/;

/**
 * The single form keeps the name as written after `RESULT_`; the grouped form names each value
 * `GROUP.key`, so two scripts' `elapsed_seconds` stay apart.
 */
export function parseResultLine(line: string): ParsedEvent[] | null {
  const text = line.trim();
  if (!text.startsWith("RESULT_")) return null;
  const single = SINGLE.exec(text);
  if (single?.[1] !== undefined && single[2] !== undefined) {
    const value = parseValue(single[2]);
    return value === undefined
      ? []
      : [{ type: "metric", name: single[1], value, source: "result" }];
  }
  const group = GROUP.exec(text);
  if (group?.[1] === undefined || group[2] === undefined) return null;
  const prefix = group[1];
  return findPairs(group[2]).map(({ name, value }) => ({
    type: "metric" as const,
    name: `${prefix}.${name}`,
    value,
    source: "result" as const,
  }));
}
