// The page's Stop button: what `offload stop` does. TERM to the run's process group (KILL after the
// grace period), then, unless an offload already follows the run, its log and outputs brought home and
// its end recorded as stopped.
import type { RunRecord } from "../runs/record.js";
import { attachRun } from "../session/attach.js";
import { type StopOutcome, stopRemoteRun } from "../session/stop.js";
import type { DashboardContext } from "./runs.js";

export async function stopFromPage(
  context: DashboardContext,
  record: RunRecord,
): Promise<StopOutcome> {
  const host = await context.hostFor(record);
  const outcome = await stopRemoteRun(
    host.transport,
    record.target.remoteDir,
    record.id,
    host.graceSeconds,
  );
  if (outcome === "pending" || record.status !== "running") return outcome;
  // In the background: the page learns the end from the log stream and the list. An offload that
  // follows the run (E_LOCKED here) records the end itself.
  void attachRun({
    transport: host.transport,
    store: context.store,
    projectDir: context.projectDir,
    runId: record.id,
    report: () => {},
    reconnectTimeoutSeconds: host.reconnectTimeoutSeconds,
    graceSeconds: host.graceSeconds,
    stopRequested: true,
    progressPatterns: context.patterns,
  }).catch(() => {});
  return outcome;
}
