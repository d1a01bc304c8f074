// The write-ahead machine ledger: one JSON file a machine in the user's state dir, written before the
// cloud is asked and kept until the machine is confirmed gone, so no crash can forget a machine.
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { homedir, hostname } from "node:os";
import { join } from "node:path";

/**
 * intent: recorded before create (the machine may exist even without an id: "answered 500 but
 * created"); created: the cloud gave its id; teardown-owed: a teardown started and is not confirmed.
 */
export type LedgerState = "intent" | "created" | "teardown-owed";

export interface LedgerEntry {
  tag: string;
  /** The provider kind (`openstack`…). */
  provider: string;
  /** The target name of offload.yaml it was made for. */
  target?: string;
  region?: string;
  id?: string;
  state: LedgerState;
  /** true: reused for the next run; reconcile leaves it alone. */
  keep: boolean;
  /** ISO time of the intent. */
  createdAt: string;
  /** The offload process that holds the machine now: reconcile leaves a live owner's machine alone. */
  owner: { pid: number; host: string };
  address?: string;
  user?: string;
  /** The pinned known_hosts key (`ssh-ed25519 AAAA…`). */
  hostKey?: string;
  /** Why the last teardown did not finish. */
  lastError?: string;
}

/** $OFFLOAD_STATE_DIR, else $XDG_STATE_HOME/offload, else ~/.local/state/offload; machines/ below it. */
export function ledgerDir(env: NodeJS.ProcessEnv = process.env): string {
  const state =
    env.OFFLOAD_STATE_DIR ||
    join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "offload");
  return join(state, "machines");
}

/** A tag no other machine carries: the identity a machine is found by when its id was never heard. */
export function newTag(): string {
  return `offload-${randomBytes(6).toString("hex")}`;
}

export function currentOwner(): LedgerEntry["owner"] {
  return { pid: process.pid, host: hostname() };
}

export class Ledger {
  constructor(readonly dir: string = ledgerDir()) {}

  /** Writes the entry durably (fsync, then rename): after this returns, a kill -9 cannot lose it. */
  async write(entry: LedgerEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = this.pathOf(entry.tag);
    const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    const handle = await open(temp, "w", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(entry, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }

  /** Merges `patch`; a field set to undefined is removed. */
  async update(
    tag: string,
    patch: { [K in keyof LedgerEntry]?: LedgerEntry[K] | undefined },
  ): Promise<LedgerEntry> {
    const entry = await this.read(tag);
    if (entry === undefined) throw new Error(`ledger: no machine ${tag}`);
    const next = { ...entry, ...patch } as LedgerEntry;
    await this.write(next);
    return next;
  }

  async read(tag: string): Promise<LedgerEntry | undefined> {
    try {
      return JSON.parse(await readFile(this.pathOf(tag), "utf8")) as LedgerEntry;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async list(): Promise<LedgerEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const tags = names.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length));
    const entries = await Promise.all(tags.map((tag) => this.read(tag)));
    return entries
      .filter((e): e is LedgerEntry => e !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Only once the machine is confirmed gone. */
  async remove(tag: string): Promise<void> {
    await rm(this.pathOf(tag), { force: true });
    await rm(this.knownHostsPath(tag), { force: true });
  }

  /** The machine's pinned known_hosts file, beside its entry. */
  knownHostsPath(tag: string): string {
    return join(this.dir, `${tag}.known_hosts`);
  }

  private pathOf(tag: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(tag)) throw new Error(`ledger: bad tag ${JSON.stringify(tag)}`);
    return join(this.dir, `${tag}.json`);
  }
}

/** Whether the process that owns `entry` still runs here (then its machine is in use, not orphaned). */
export function isOwnerAlive(entry: LedgerEntry): boolean {
  const { pid, host } = entry.owner;
  if (host !== hostname()) return true;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
