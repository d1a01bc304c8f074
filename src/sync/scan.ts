// Walks the workspace and decides what to upload: .gitignore files at every level, .offloadignore,
// the settings' ignore list and offload's defaults, with git's own semantics (the `ignore` package).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ignore from "ignore";
import { DEFAULT_IGNORES, DEFAULT_MATCHER, type RuleMatcher } from "./default-ignores.js";
import { decodeName, encodePath, mayBeMangled } from "./raw-names.js";

export { DEFAULT_IGNORES } from "./default-ignores.js";

export interface ScanResult {
  /** Paths relative to the root, `/`-separated: regular files and symlinks. */
  files: string[];
  /** The directories and files the rules keep, in walk order (each directory just before what it
   * holds): a tar of them carries the directories' modes and mtimes as rsync does. */
  tree: string[];
  /** What the rules left out, as anchored rsync exclude patterns (`/path`, `/dir/`): rsync then recurses
   * itself, which is 3x faster than feeding it 5,000 names through --files-from (measured). */
  excluded: string[];
  /** Whether the rules leave out `path` (relative, `/`-separated), which need not exist: a file once
   * synced and gone since is removed remotely only when the rules would not leave it out. */
  ignores(path: string): boolean;
}

/** An anchored rsync pattern matching exactly `path` (wildcards escaped, as rsync wants them then). */
export function toRsyncExclude(path: string, isDir: boolean): string {
  const literal = /[*?[]/.test(path) ? path.replace(/[\\*?[]/g, "\\$&") : path;
  return `/${literal}${isDir ? "/" : ""}`;
}

const RULE_FILES = [".gitignore", ".offloadignore"];

interface Rules {
  /** Directory the rules are relative to, `/`-terminated, "" for the root. */
  base: string;
  matcher: RuleMatcher;
}

/** The rule files among a directory's entries (opening only those that exist: a failed open costs an
 * exception, and a scan passes thousands of directories). */
function readRules(dir: string | Buffer, present: ReadonlySet<string>): string | undefined {
  const texts: string[] = [];
  for (const name of RULE_FILES) {
    if (!present.has(name)) continue;
    try {
      texts.push(readFileSync(childPath(dir, name), "utf8"));
    } catch {
      // gone since the listing, or unreadable: as if absent
    }
  }
  return texts.length > 0 ? texts.join("\n") : undefined;
}

interface Entry {
  name: string;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

/** A directory's entries; one whose name is not valid UTF-8 keeps its bytes (raw-names.ts). */
function listDirectory(dir: string | Buffer): Entry[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (!entries.some((entry) => mayBeMangled(entry.name))) return entries;
  return readdirSync(dir, { withFileTypes: true, encoding: "buffer" }).map((entry) => ({
    name: decodeName(entry.name),
    isDirectory: () => entry.isDirectory(),
    isFile: () => entry.isFile(),
    isSymbolicLink: () => entry.isSymbolicLink(),
  }));
}

/** A child's path for fs calls: bytes once a name on the way was not valid UTF-8. */
function childPath(dir: string | Buffer, name: string): string | Buffer {
  const raw = encodePath(name);
  if (typeof dir === "string" && raw.toString("utf8") === name) return join(dir, name);
  return Buffer.concat([typeof dir === "string" ? encodePath(dir) : dir, Buffer.from("/"), raw]);
}

function isIgnored(rules: readonly Rules[], path: string, isDir: boolean): boolean {
  let ignored = false;
  for (const { base, matcher } of rules) {
    if (!path.startsWith(base)) continue;
    const relative = path.slice(base.length) + (isDir ? "/" : "");
    const verdict = matcher.test(relative);
    if (verdict.ignored) ignored = true;
    else if (verdict.unignored) ignored = false;
  }
  return ignored;
}

export async function scanWorkspace(
  root: string,
  extraIgnores: readonly string[] = [],
): Promise<ScanResult> {
  // The defaults alone need no regular expressions (default-ignores.ts); the settings' rules may
  // un-ignore a default, so with any, all go to one `ignore` as before.
  const top =
    extraIgnores.length === 0
      ? DEFAULT_MATCHER
      : ignore({ allowRelativePaths: true }).add([...DEFAULT_IGNORES, ...extraIgnores]);
  const files: string[] = [];
  const tree: string[] = [];
  const excluded: string[] = [];
  /** The rules in force in each directory walked, by its prefix (`""`, `a/`, `a/b/`). */
  const rulesIn = new Map<string, readonly Rules[]>();
  let sawStateDir = false;

  // Synchronous file system calls: a scan is thousands of tiny calls, and each async one pays a thread
  // pool round trip (5,000 files: 280 ms async, a tenth of that sync). No stat per file: the listing
  // gives the types, and sizes would cost half the scan (measured), for a total rsync reports anyway.
  function walk(dir: string | Buffer, prefix: string, inherited: readonly Rules[]): void {
    const entries = listDirectory(dir);
    const names = new Set(entries.map((e) => e.name));
    if (prefix === "" && names.has(".offload")) sawStateDir = true;
    const local = readRules(dir, names);
    const rules =
      local === undefined
        ? inherited
        : [...inherited, { base: prefix, matcher: ignore().add(local) }];
    rulesIn.set(prefix, rules);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = prefix + entry.name;
      const isDir = entry.isDirectory();
      if (isIgnored(rules, path, isDir)) {
        excluded.push(toRsyncExclude(path, isDir));
        continue;
      }
      if (!isDir && !entry.isFile() && !entry.isSymbolicLink())
        excluded.push(toRsyncExclude(path, false));
      if (isDir) {
        tree.push(path);
        walk(childPath(dir, entry.name), `${path}/`, rules);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        files.push(path);
        tree.push(path);
      }
    }
  }

  walk(root, "", [{ base: "", matcher: top }]);
  // offload makes .offload/ itself, during the run (the sync manifest is written before the upload): one
  // that was not there to be ruled out must not reach the remote dir, where .offload/ is the protocol's.
  if (!sawStateDir) excluded.push("/.offload/");
  // Each component is tested with the rules of the deepest directory walked above it: a directory the
  // rules left out was not walked, and one that is gone inherits its parent's rules.
  const ignores = (path: string): boolean => {
    const parts = path.split("/");
    let rules = rulesIn.get("") ?? [];
    let prefix = "";
    for (const [index, part] of parts.entries()) {
      const isDir = index < parts.length - 1;
      if (isIgnored(rules, prefix + part, isDir)) return true;
      prefix = `${prefix}${part}/`;
      rules = rulesIn.get(prefix) ?? rules;
    }
    return false;
  };
  return { files, tree, excluded, ignores };
}
