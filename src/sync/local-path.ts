// Where the local side of an `upload`/`download` mapping is on this machine.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** `~` and `~/…` under this user's home; anything else relative to the project (or absolute). */
export function expandLocal(path: string, projectDir: string): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return resolve(projectDir, path);
}
