// A directory tree as data, to prove that something changed no byte, name or modification time in it.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export type Tree = Record<string, string>;

/** Every entry under `root`: its type, mode, mtime, and a file's content hash or a link's target. */
export function snapshotTree(root: string): Tree {
  const tree: Tree = {};
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const key = `${prefix}${name}`;
      const head = `${stat.mode.toString(8)} ${stat.mtimeMs}`;
      if (stat.isDirectory()) {
        tree[`${key}/`] = head;
        walk(path, `${key}/`);
      } else if (stat.isSymbolicLink()) tree[key] = `${head} -> ${readlinkSync(path)}`;
      else tree[key] = `${head} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
    }
  };
  walk(root, "");
  return tree;
}
