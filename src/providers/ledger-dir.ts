// Where the machine ledger lives, and whether it holds anything: every command asks before it runs
// (cli/owed-machines.ts), so this file imports no more than that question needs; the ledger's code (and
// crypto, the clouds' inventory) loads only when there is an entry to settle.
import { readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** $OFFLOAD_STATE_DIR, else $XDG_STATE_HOME/offload, else ~/.local/state/offload; machines/ below it. */
export function ledgerDir(env: NodeJS.ProcessEnv = process.env): string {
  const state =
    env.OFFLOAD_STATE_DIR ||
    join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "offload");
  return join(state, "machines");
}

/** Cheap: one readdir. Whether the ledger holds any machine at all. */
export function hasLedgerEntries(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    return readdirSync(ledgerDir(env)).some((name) => name.endsWith(".json"));
  } catch {
    return false;
  }
}
