// The round trip before a run's next attempt (pure): the last attempt's job stopped if it still runs
// (proven by its start time, as any stop), its run dir kept aside under .offload/attempts/<id>/<n>, and
// the lock taken again by the same run, so the next launch starts from a clean run dir.
import { quoteShell } from "../shell/quote.js";
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { remoteRunDir, STATE_DIR } from "./layout.js";
import { buildReleaseLock, buildTakeLockSteps } from "./lock.js";

export function buildRetryScript(
  remoteDir: string,
  runId: string,
  attempt: number,
  graceSeconds: number,
): string {
  const run = quoteShell(remoteRunDir(runId));
  const kept = quoteShell(`${STATE_DIR}/attempts/${runId}/${Math.max(1, Math.floor(attempt))}`);
  return [
    PROTOCOL_FUNCTIONS,
    `cd ${quoteShell(remoteDir)} || exit 1`,
    `if [ -d ${run} ]; then`,
    `  offload_stop ${run} ${Math.max(0, Math.round(graceSeconds))} >/dev/null 2>&1`,
    `  mkdir -p "$(dirname ${kept})" && rm -rf ${kept} && mv ${run} ${kept} || exit 1`,
    `fi`,
    buildReleaseLock(runId),
    ...buildTakeLockSteps({ runId, force: false, graceSeconds }),
  ].join("\n");
}

/** Writes stdin to `path` below the remote dir through a temp file renamed into place. */
export function buildPutFileScript(remoteDir: string, path: string): string {
  const file = quoteShell(path);
  const temp = quoteShell(`${path}.offload-put`);
  return `cd ${quoteShell(remoteDir)} && mkdir -p "$(dirname ${file})" && cat > ${temp} && mv -f ${temp} ${file}`;
}

/** Exits 0 when someone asked the run to stop (`offload stop` leaves `stop-requested` in its run dir). */
export function buildStopRequestedScript(remoteDir: string, runId: string): string {
  return `cd ${quoteShell(remoteDir)} && [ -f ${quoteShell(`${remoteRunDir(runId)}/stop-requested`)} ]`;
}
