// The table `offload machines` prints: each machine of the ledger with the cloud's word on it, then the
// cloud's machines with offload's tag that this computer's ledger does not hold.
import type { Inventory, MachineRow } from "../../providers/inventory.js";
import { formatHours } from "../../report/format.js";
import type { Output } from "../render.js";

export function writeInventory(inventory: Inventory, out: Output): void {
  for (const problem of inventory.problems) out.stderr.write(`could not ask ${problem}\n`);
  if (inventory.rows.length === 0 && inventory.unknown.length === 0) {
    out.stderr.write("No cloud machines made by offload.\n");
    return;
  }
  const header = ["MACHINE", "CLOUD", "REGION", "STATE", "ADDRESS", "AGE", "TARGET"];
  const rows = inventory.rows.map(rowOf);
  const unknown = inventory.unknown.map((m) => [
    m.tag ?? m.id,
    m.provider,
    m.region ?? "-",
    `${m.state} (${m.rawState}), not in this computer's ledger`,
    m.addresses.public[0] ?? "-",
    m.created === undefined ? "-" : age(m.created),
    "-",
  ]);
  out.stdout.write(`${table([header, ...rows, ...unknown])}\n`);
}

function rowOf(row: MachineRow): string[] {
  const { entry, cloud } = row;
  const cloudState = cloud === undefined ? "unknown" : `${cloud.state} (${cloud.rawState})`;
  const state =
    entry.state === "teardown-owed"
      ? `teardown owed, ${cloudState}`
      : row.inUse
        ? `in use, ${cloudState}`
        : entry.keep
          ? `kept, ${cloudState}`
          : cloudState;
  return [
    entry.tag,
    entry.provider,
    entry.region ?? "-",
    state,
    entry.address ?? cloud?.addresses.public[0] ?? "-",
    age(entry.createdAt),
    entry.target ?? "-",
  ];
}

function age(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return formatHours(s);
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "),
    )
    .join("\n");
}
