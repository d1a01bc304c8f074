// The files an ssh configuration answer depends on, read from `ssh -G -v`, and a cheap proof (stat)
// that none of them changed since: so a decision drawn from ssh's answer is kept without asking again.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";

/** What an `ssh -G -v` said it read, and the Include patterns that matched no file yet. */
export interface ConfigReads {
  read: string[];
  unmatched: string[];
}

/** Reads `ssh -v`'s debug lines about config files, `~` expanded with each of `homes`. Pure. */
export function configPathsRead(stderr: string, homes: readonly string[]): ConfigReads {
  const reads: ConfigReads = { read: [], unmatched: [] };
  const expand = (path: string) =>
    path.startsWith("~/") ? homes.map((home) => join(home, path.slice(2))) : [path];
  for (const raw of stderr.split("\n")) {
    const line = raw.trim();
    const read = /^debug\d: Reading configuration data (.+)$/.exec(line)?.[1];
    const unmatched = /^debug\d: .* line \d+: include (.+) matched no files$/.exec(line)?.[1];
    if (read !== undefined) reads.read.push(...expand(read));
    if (unmatched !== undefined) reads.unmatched.push(...expand(unmatched));
  }
  return reads;
}

/** The folder a glob's matches appear in (its part before the first wildcard), or the path itself. */
function globRoot(path: string): string {
  const parts = path.split("/");
  const wild = parts.findIndex((part) => /[*?[]/.test(part));
  return wild < 0 ? path : parts.slice(0, wild).join("/") || "/";
}

/**
 * What to stat to see a change that ssh would read: the files it read; the folder of each included
 * file (a new file beside it may be a new match of an `Include dir/*.conf`: it changes the folder's
 * mtime); where an unmatched Include would find its first file. `explicit` are read by name (the
 * user's and the system's config, or `-F`): their own signature is enough, also while absent.
 */
export function watchedPaths(explicit: readonly string[], reads: ConfigReads): string[] {
  const included = reads.read.filter((file) => !explicit.includes(file));
  return [
    ...new Set([
      ...explicit,
      ...reads.read,
      ...included.map((file) => dirname(file)),
      ...reads.unmatched.map(globRoot),
    ]),
  ].sort();
}

/** A path's identity and last change, or `-` where it is not there (its creation is a change too). */
export function signatureOf(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  } catch {
    return "-";
  }
}

export function signaturesOf(paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(paths.map((path) => [path, signatureOf(path)]));
}

/** True where every recorded path still has the signature it had. */
export function unchangedSince(recorded: Record<string, string>): boolean {
  return Object.entries(recorded).every(([path, signature]) => signatureOf(path) === signature);
}
