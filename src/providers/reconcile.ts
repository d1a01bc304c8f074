// Reconciling the ledger with the cloud: machines whose offload died (kill -9, a second Ctrl+C, a lost
// laptop) are deleted, including "answered 500 but created" ones found only by their tag.
import { isKeptIdle, isOwnerAlive, type Ledger, type LedgerEntry } from "./ledger.js";
import { type TeardownOptions, tearDown } from "./teardown.js";
import type { MachineDescription, Provider } from "./types.js";

export interface ReconcileResult {
  /** Tags whose machines were deleted and confirmed gone. */
  deleted: string[];
  /** Tags whose ledger entries held no machine (never created, or already gone) and were dropped. */
  forgotten: string[];
  /** Teardowns that failed again: still owed, with the reason. */
  owed: { tag: string; error: string }[];
  /** Machines carrying offload's tag that this ledger does not know (another computer's): reported only. */
  unknown: MachineDescription[];
}

/** Settles every entry of this provider's kind whose owner is gone; kept machines and live runs stay. */
export async function reconcile(
  provider: Provider,
  ledger: Ledger,
  options: TeardownOptions = {},
): Promise<ReconcileResult> {
  const result: ReconcileResult = { deleted: [], forgotten: [], owed: [], unknown: [] };
  const entries = (await ledger.list()).filter((e) => e.provider === provider.kind);
  const live = await provider.list();
  const known = new Set(entries.map((e) => e.tag));
  result.unknown = live.filter((m) => m.tag !== undefined && !known.has(m.tag));
  for (const entry of entries) {
    if (isOwnerAlive(entry) || isKeptIdle(entry)) continue;
    const machines = live.filter((m) => m.tag === entry.tag);
    if (machines.length === 0 && !(await stillExists(provider, entry))) {
      await ledger.remove(entry.tag);
      result.forgotten.push(entry.tag);
      continue;
    }
    try {
      await tearDown(provider, ledger, entry.tag, options);
      result.deleted.push(entry.tag);
    } catch (error) {
      result.owed.push({
        tag: entry.tag,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return result;
}

/** A list can lag behind a create; the id, when the ledger has one, is asked directly. */
async function stillExists(provider: Provider, entry: LedgerEntry): Promise<boolean> {
  if (entry.id === undefined) return false;
  return (await provider.describe(entry.id, entry.region)).state !== "gone";
}
