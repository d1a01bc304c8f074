// What every offload command does first when the ledger has entries: settle the machines a dead offload
// (kill -9, a second Ctrl+C, a lost laptop) left owed, so none is forgotten for longer than one command.
import { type OpenProvider, optionsOf } from "./inventory.js";
import { currentOwner, isKeptIdle, isOwnerAlive, Ledger } from "./ledger.js";
import { type EndedRun, endRunOfDeletedMachine } from "./orphan-runs.js";
import { reconcile } from "./reconcile.js";
import type { TeardownOptions } from "./teardown.js";

export { hasLedgerEntries } from "./ledger-dir.js";

export interface SettleReport {
  deleted: string[];
  owed: { tag: string; error: string }[];
  /** Clouds that could not be asked (credentials missing here, the cloud down). */
  problems: string[];
  /** Runs of the deleted machines that were still recorded live, now ended `lost`. */
  runs: EndedRun[];
}

/** Reconciles each cloud that has an entry whose owner is gone (kept idle machines stay as they are). */
export async function settleOwedMachines(
  open: OpenProvider,
  options: TeardownOptions & { ledger?: Ledger } = {},
): Promise<SettleReport> {
  const ledger = options.ledger ?? new Ledger();
  const report: SettleReport = { deleted: [], owed: [], problems: [], runs: [] };
  const entries = (await ledger.list()).filter((e) => !isOwnerAlive(e) && !isKeptIdle(e));
  for (const kind of new Set(entries.map((e) => e.provider))) {
    const regions = [
      ...new Set(
        entries
          .filter((e) => e.provider === kind)
          .map((e) => e.region)
          .filter((r): r is string => r !== undefined),
      ),
    ];
    try {
      const mine = entries.filter((e) => e.provider === kind);
      const result = await reconcile(open(kind, regions, optionsOf(mine)), ledger, options);
      report.deleted.push(...result.deleted);
      report.owed.push(...result.owed);
      const gone = new Set([...result.deleted, ...result.forgotten]);
      for (const entry of mine.filter((e) => gone.has(e.tag))) {
        const ended = await endRunOfDeletedMachine(entry);
        if (ended !== undefined) report.runs.push(ended);
      }
    } catch (error) {
      report.problems.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return report;
}

/** Why a machine left behind by a second Ctrl+C is owed, as `offload machines` shows it. */
const LEFT_BY_CTRL_C = "offload was left with a second Ctrl+C before the machine was deleted";

/**
 * A second Ctrl+C: offload leaves at once. Each machine this offload holds (all, or those `tags` name;
 * kept ones aside: they are meant to stay) is marked owed first, so `offload machines` shows it and the
 * next command deletes it (a kept one too while its watcher is not armed: nothing would stop it).
 * Returns the tags marked.
 */
export async function leaveMachinesOwed(
  ledger: Ledger,
  tags?: readonly string[],
): Promise<string[]> {
  const me = currentOwner();
  const mine = (await ledger.list()).filter(
    (e) =>
      e.owner.pid === me.pid &&
      e.owner.host === me.host &&
      !isKeptIdle(e) &&
      (tags === undefined || tags.includes(e.tag)),
  );
  const marked: string[] = [];
  for (const entry of mine) {
    // The teardown under way may have confirmed it gone and removed it meanwhile: nothing is owed then.
    const owed = await ledger
      .update(entry.tag, { state: "teardown-owed", lastError: LEFT_BY_CTRL_C })
      .catch(() => undefined);
    if (owed !== undefined) marked.push(entry.tag);
  }
  return marked;
}
