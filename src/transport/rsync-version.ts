// Whether this machine's rsync prints whole-transfer progress (`--info=progress2`, rsync >= 3.1): the
// rsync shipped with macOS (2.6.9, or openrsync) refuses the option, so it is asked for only where known.
import { readLocalVersion, versionsDirectory } from "./local-version.js";

let asked: Promise<boolean> | undefined;

/** Asked once per process (kept: local-version.ts); a run starts it early, beside the connect. */
export function localRsyncShowsProgress(): Promise<boolean> {
  asked ??= readLocalVersion("rsync", { dir: versionsDirectory() })
    .then((stdout) => {
      const match = /version (\d+)\.(\d+)/.exec(stdout ?? "");
      if (match === null) return false;
      const [major, minor] = [Number(match[1]), Number(match[2])];
      return major > 3 || (major === 3 && minor >= 1);
    })
    .catch(() => false);
  return asked;
}
