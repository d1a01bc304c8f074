// Finds the project a command is about: the nearest folder with offload.yaml, else the git work tree
// root, else the current directory.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export function findProjectDir(start: string): string {
  let gitRoot: string | undefined;
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "offload.yaml"))) return dir;
    if (gitRoot === undefined && existsSync(join(dir, ".git"))) gitRoot = dir;
    if (dirname(dir) === dir) break;
  }
  return gitRoot ?? resolve(start);
}
