// What `offload machines` and `offload down` work on: the ledger's machines joined with what each
// cloud says now, the tagged machines no ledger entry here knows, and deleting by name.
import { OffloadError } from "../errors.js";
import { currentOwner, isOwnerAlive, type Ledger, type LedgerEntry } from "./ledger.js";
import type { CloudOptions } from "./open.js";
import { type EndedRun, endRunOfDeletedMachine } from "./orphan-runs.js";
import { type TeardownOptions, tearDown } from "./teardown.js";
import type { MachineDescription, Provider } from "./types.js";

export interface MachineRow {
  entry: LedgerEntry;
  /** What the cloud says now; undefined when it could not be asked (see problem). */
  cloud?: MachineDescription;
  /** The offload process that made it still runs (a run in progress). */
  inUse: boolean;
}

export interface Inventory {
  rows: MachineRow[];
  /** Machines carrying offload's tag that this computer's ledger does not know. */
  unknown: (MachineDescription & { provider: string })[];
  /** Clouds that could not be asked, and why. */
  problems: string[];
}

/** The provider of a kind, asked about these regions (those the ledger's machines are in). */
export type OpenProvider = (
  kind: string,
  regions: readonly string[],
  options?: CloudOptions,
) => Provider;

/** The provider section a kind's machines were made with (the first entry that recorded one). */
export function optionsOf(entries: readonly LedgerEntry[]): CloudOptions | undefined {
  return entries.find((e) => e.options !== undefined)?.options;
}

/** Every machine in the ledger with its cloud state, for the given kinds too when the ledger has none. */
export async function listMachines(
  ledger: Ledger,
  open: OpenProvider,
  kinds: readonly string[] = [],
): Promise<Inventory> {
  const entries = await ledger.list();
  const inventory: Inventory = { rows: [], unknown: [], problems: [] };
  for (const kind of new Set([...entries.map((e) => e.provider), ...kinds])) {
    const mine = entries.filter((e) => e.provider === kind);
    let live: MachineDescription[] | undefined;
    try {
      live = await open(kind, regionsOf(mine), optionsOf(mine)).list();
    } catch (error) {
      inventory.problems.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const known = new Set(mine.map((e) => e.tag));
    for (const machine of live ?? []) {
      if (machine.tag !== undefined && !known.has(machine.tag))
        inventory.unknown.push({ ...machine, provider: kind });
    }
    for (const entry of mine) {
      const row: MachineRow = {
        entry,
        inUse: isOwnerAlive(entry) && entry.owner.pid !== process.pid,
      };
      const cloud = live?.find((m) => m.tag === entry.tag);
      if (cloud !== undefined) row.cloud = cloud;
      else if (live !== undefined)
        row.cloud = {
          id: entry.id ?? "",
          state: "gone",
          rawState: "not listed",
          addresses: { public: [], private: [] },
        };
      inventory.rows.push(row);
    }
  }
  return inventory;
}

export interface DownResult {
  gone: string[];
  failed: { tag: string; error: string }[];
  /** Runs of deleted machines whose offload had died, ended `lost` (orphan-runs.ts). */
  runs: EndedRun[];
}

/**
 * Deletes the named machines (tag, tag without `offload-`, or cloud id; `all` for every one) and waits
 * until each is gone. A tagged machine no ledger entry knows is adopted into the ledger first.
 */
export async function downMachines(
  ledger: Ledger,
  open: OpenProvider,
  names: readonly string[] | "all",
  options: TeardownOptions & { kinds?: readonly string[] } = {},
): Promise<DownResult> {
  const inventory = await listMachines(ledger, open, options.kinds);
  const targets = names === "all" ? inventory.rows.map((r) => r.entry) : [];
  if (names !== "all") {
    for (const name of names) targets.push(await resolveTarget(ledger, inventory, name));
  }
  const result: DownResult = { gone: [], failed: [], runs: [] };
  for (const entry of targets) {
    try {
      await tearDown(
        open(entry.provider, regionsOf([entry]), entry.options),
        ledger,
        entry.tag,
        options,
      );
      result.gone.push(entry.tag);
      // The run of a dead offload's machine ends with it; a live offload's own run records its loss.
      const ended = isOwnerAlive(entry) ? undefined : await endRunOfDeletedMachine(entry);
      if (ended !== undefined) result.runs.push(ended);
    } catch (error) {
      result.failed.push({
        tag: entry.tag,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return result;
}

async function resolveTarget(
  ledger: Ledger,
  inventory: Inventory,
  name: string,
): Promise<LedgerEntry> {
  const matches = (tag: string | undefined, id: string | undefined) =>
    tag === name || tag === `offload-${name}` || (id !== undefined && id === name);
  const row = inventory.rows.find((r) => matches(r.entry.tag, r.entry.id ?? r.cloud?.id));
  if (row !== undefined) return row.entry;
  const stranger = inventory.unknown.find((m) => matches(m.tag, m.id));
  if (stranger?.tag !== undefined) {
    const entry: LedgerEntry = {
      tag: stranger.tag,
      provider: stranger.provider,
      id: stranger.id,
      state: "teardown-owed",
      keep: false,
      createdAt: stranger.created ?? new Date().toISOString(),
      owner: currentOwner(),
      ...(stranger.region === undefined ? {} : { region: stranger.region }),
    };
    await ledger.write(entry);
    return entry;
  }
  throw new OffloadError(
    "E_USAGE",
    `no machine ${JSON.stringify(name)} in offload's ledger or among the clouds' tagged machines`,
    {
      hint: "`offload machines` lists them; name one by its MACHINE column or its cloud id",
    },
  );
}

function regionsOf(entries: readonly LedgerEntry[]): string[] {
  return [...new Set(entries.map((e) => e.region).filter((r): r is string => r !== undefined))];
}
