// Whether this machine's rsync prints whole-transfer progress (`--info=progress2`, rsync >= 3.1): the
// rsync shipped with macOS (2.6.9, or openrsync) refuses the option, so it is asked for only where known.
import { runProcess } from "./process.js";

let asked: Promise<boolean> | undefined;

/** Asked once per process (a spawn); a run starts it early, beside the connect, and reads it later. */
export function localRsyncShowsProgress(): Promise<boolean> {
  asked ??= runProcess(["rsync", "--version"], { timeoutMs: 5000 })
    .then((result) => {
      const match = /version (\d+)\.(\d+)/.exec(result.stdout);
      if (result.code !== 0 || match === null) return false;
      const [major, minor] = [Number(match[1]), Number(match[2])];
      return major > 3 || (major === 3 && minor >= 1);
    })
    .catch(() => false);
  return asked;
}
