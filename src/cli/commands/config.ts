// `offload config` as text: a table of key, value and where the value came from.
import { type DescribedValue, describeSettings } from "../../config/describe.js";
import { resolveSettings } from "../../config/resolve.js";
import type { Output } from "../render.js";
import { load, type TargetFlags } from "../settings.js";

interface Row {
  key: string;
  value: string;
  source: string;
}

/** One row per setting; lists and maps show one row per item (`env.SEED`, `upload[0]`). */
export function formatDescribed(described: Record<string, unknown>): string {
  const rows: Row[] = [];
  collectRows("", described, rows);
  const keyWidth = Math.max(3, ...rows.map((r) => r.key.length));
  const valueWidth = Math.max(5, ...rows.map((r) => r.value.length));
  const line = (r: Row) =>
    `${r.key.padEnd(keyWidth)}  ${r.value.padEnd(valueWidth)}  ${r.source}`.trimEnd();
  return [line({ key: "KEY", value: "VALUE", source: "SOURCE" }), ...rows.map(line)].join("\n");
}

function isDescribed(value: unknown): value is DescribedValue {
  return typeof value === "object" && value !== null && "source" in value && "value" in value;
}

function collectRows(prefix: string, node: unknown, rows: Row[]): void {
  if (isDescribed(node)) {
    rows.push({ key: prefix, value: showValue(node.value), source: node.source });
    return;
  }
  if (Array.isArray(node)) {
    if (node.length === 0) rows.push({ key: prefix, value: "(none)", source: "default" });
    node.forEach((item, index) => {
      collectRows(`${prefix}[${index}]`, item, rows);
    });
    return;
  }
  if (typeof node === "object" && node !== null) {
    const entries = Object.entries(node);
    if (entries.length === 0 && prefix !== "")
      rows.push({ key: prefix, value: "(none)", source: "default" });
    for (const [key, value] of entries) collectRows(prefix ? `${prefix}.${key}` : key, value, rows);
  }
}

/** Text as is, anything else as JSON; a setting nothing gave shows as `-` (offload decides). */
function showValue(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export async function configAction(out: Output, flags: TargetFlags): Promise<number> {
  const loaded = await load(flags);
  const described = describeSettings(await resolveSettings(loaded));
  if (flags.json) out.stdout.write(`${JSON.stringify(described)}\n`);
  else out.stdout.write(`${formatDescribed(described)}\n`);
  return 0;
}
