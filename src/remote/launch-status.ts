// The question asked after a launch round trip failed without its answer: did the job start? Its own
// file because it runs in a round trip of its own, never beside the launch script.

import { quoteShell } from "../shell/quote.js";
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { LOCK_FILE, MARK, remoteRunDir } from "./layout.js";
import { readMarkers } from "./markers.js";

/**
 * After a launch round trip failed without the launched marker: did the job start? Waits (up to a
 * minute) while the launching shell still lives without a launcher, then answers with the launched
 * marker, or frees the lock and prints MARK.notLaunched.
 */
export function buildLaunchStatusScript(remoteDir: string, runId: string): string {
  return [
    PROTOCOL_FUNCTIONS,
    `cd ${quoteShell(remoteDir)} || exit 1`,
    `R=${quoteShell(remoteRunDir(runId))}`,
    `p=; offload_await_launcher "$R"`,
    // Still stuck (its stdin never came whole): end it before it could start anything, then look again.
    `if [ -n "$p" ] && offload_alive "$p"; then kill "$p" 2>/dev/null; offload_sleep 0.2; fi`,
    `lp=; { read -r lp _ < "$R/launcher.pid"; } 2>/dev/null`,
    `case "$lp" in *[!0-9]*) lp=0 ;; esac`,
    `if [ -n "$lp" ]; then printf '${MARK.launched} %s\\n' "$lp" >&2; exit 0; fi`,
    // Nothing started and nobody is starting it: free the remote dir for the next run.
    `holder=; read -r holder _ < ${LOCK_FILE} 2>/dev/null`,
    `if [ "$holder" = ${quoteShell(runId)} ]; then rm -f ${LOCK_FILE}; fi`,
    `rm -rf "$R"; printf '${MARK.notLaunched}\\n' >&2`,
    "",
  ].join("\n");
}

/** The launch status script's answer: the launcher's pid, `not-launched`, or undefined (no answer). */
export function readLaunchStatus(stderr: string): { pid: number } | "not-launched" | undefined {
  const pid = readMarkers(stderr).launchedPid;
  if (pid !== undefined) return { pid };
  return stderr.includes(MARK.notLaunched) ? "not-launched" : undefined;
}
