// Builds the script that stops a run from anywhere: the whole process group gets TERM, then KILL after a
// grace period, so nothing of the job is left holding a GPU.
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { remoteRunDir } from "./layout.js";
import { quoteShell } from "./quote.js";

export const DEFAULT_GRACE_SECONDS = 10;

export function buildStopScript(
  remoteDir: string,
  runId: string,
  graceSeconds = DEFAULT_GRACE_SECONDS,
): string {
  return [
    PROTOCOL_FUNCTIONS,
    `cd ${quoteShell(remoteDir)} || exit 1`,
    `R=${remoteRunDir(runId)}`,
    `[ -d "$R" ] || { echo "offload-stop missing" >&2; exit 4; }`,
    `if [ -f "$R/exit" ]; then echo "offload-stop ended" >&2; exit 0; fi`,
    `offload_stop "$R" ${Math.max(0, Math.round(graceSeconds))}`,
    `if [ -f "$R/exit" ]; then echo "offload-stop stopped" >&2; else echo "offload-stop pending" >&2; fi`,
  ].join("\n");
}
