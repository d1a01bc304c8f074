// A PATH that lacks some programs: a temp dir of links to everything the current PATH finds, less those.
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface ReducedPath {
  /** The value for PATH. */
  path: string;
  remove(): void;
}

export function pathWithout(missing: readonly string[]): ReducedPath {
  const dir = mkdtempSync(join(tmpdir(), "offload-path-"));
  const linked = new Set<string>(missing);
  for (const from of (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "")) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (linked.has(name)) continue;
      try {
        if (!statSync(join(from, name)).isFile()) continue;
      } catch {
        continue;
      }
      linked.add(name);
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
