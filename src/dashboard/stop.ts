// The page's Stop button: what `offload stop` does. TERM to the run's process group (KILL after the
// grace period), then, unless an offload already follows the run, its log and outputs brought home and
// its end recorded as stopped.

import { jobRefOf, type StopOutcome } from "../backends/types.js";
import type { RunRecord } from "../runs/record.js";
import { attachRun } from "../session/attach.js";
import type { DashboardContext } from "./runs.js";

export async function stopFromPage(
  context: DashboardContext,
  record: RunRecord,
): Promise<StopOutcome> {
  const host = await context.contextFor(record);
  const outcome = await host.backend.stop(jobRefOf(record), {
    graceSeconds: host.settings.graceSeconds,
  });
  if (outcome === "pending" || record.status !== "running") return outcome;
  // In the background: the page learns the end from the log stream and the list. An offload that
  // follows the run (E_LOCKED here) records the end itself.
  void attachRun(host, { runId: record.id, stopRequested: true }).catch(() => {});
  return outcome;
}
