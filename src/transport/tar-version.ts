// Whether this machine's tar is GNU tar: a first sync streams a tar only where both ends are, since the
// archive must carry what rsync would (nanosecond mtimes, hard links as separate files: sync/first-sync.ts).
import { runProcess } from "./process.js";

let asked: Promise<boolean> | undefined;

/** Asked once per process, and only before a first sync into an empty dir (a spawn). */
export function localTarIsGnu(): Promise<boolean> {
  asked ??= runProcess(["tar", "--version"], { timeoutMs: 5000 })
    .then((result) => result.code === 0 && result.stdout.includes("GNU tar"))
    .catch(() => false);
  return asked;
}
