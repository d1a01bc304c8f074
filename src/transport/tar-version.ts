// Whether this machine's tar is GNU tar: a first sync streams a tar only where both ends are, since the
// archive must carry what rsync would (nanosecond mtimes, hard links as separate files: sync/first-sync.ts).
import { readLocalVersion, versionsDirectory } from "./local-version.js";

let asked: Promise<boolean> | undefined;

/** Asked once per process, and only before a first sync into an empty dir (kept: local-version.ts). */
export function localTarIsGnu(): Promise<boolean> {
  asked ??= readLocalVersion("tar", { dir: versionsDirectory() })
    .then((stdout) => stdout?.includes("GNU tar") === true)
    .catch(() => false);
  return asked;
}
