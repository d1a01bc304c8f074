// The events a run page lists: what changed in the run's record since the page last looked (its
// status, each phase done, a retry, a stop, a checkpoint, an error), as the offload that owns the run
// saved it, and the reconnects of the dashboard's own follow. Pure: records in, lines out.
import type { RunEvent } from "../events.js";
import type { RunRecord } from "../runs/record.js";

export interface PageEvent {
  kind: "status" | "phase" | "retry" | "stop" | "checkpoint" | "download" | "error" | "reconnect";
  text: string;
}

const PHASES = ["connect", "sync", "env", "launch", "run", "download", "total"] as const;

/** What `after` says that `before` did not (from an empty page when `before` is undefined). */
export function recordChanges(before: RunRecord | undefined, after: RunRecord): PageEvent[] {
  const events: PageEvent[] = [];
  for (const entry of (after.attempts ?? []).slice(before?.attempts?.length ?? 0)) {
    const exit = entry.exitCode === null ? "" : ` (exit ${entry.exitCode})`;
    events.push({
      kind: "retry",
      text: `attempt ${entry.attempt} ${entry.status}${exit}: tried again; its log is ${entry.log}`,
    });
  }
  for (const phase of PHASES) {
    const ms = after.phases[phase];
    if (ms !== undefined && ms !== before?.phases[phase])
      events.push({ kind: "phase", text: `${phase}: ${ms} ms` });
  }
  if (after.stopRequested && !before?.stopRequested)
    events.push({ kind: "stop", text: "a stop was asked for" });
  if (after.displacedBy !== undefined && after.displacedBy !== before?.displacedBy)
    events.push({ kind: "stop", text: `stopped by run ${after.displacedBy} (run --force)` });
  if (after.checkpoint !== undefined && after.checkpoint.count !== before?.checkpoint?.count)
    events.push({
      kind: "checkpoint",
      text: `checkpoint ${after.checkpoint.count}: ${after.checkpoint.files} files held`,
    });
  if (after.artifacts.length > (before?.artifacts.length ?? 0))
    events.push({ kind: "download", text: `${after.artifacts.length} files downloaded` });
  if (after.error !== undefined && after.error.message !== before?.error?.message)
    events.push({ kind: "error", text: `${after.error.code}: ${after.error.message}` });
  if (after.status !== before?.status || after.attempt !== before?.attempt) {
    const attempt = after.attempt === undefined ? "" : ` (attempt ${after.attempt})`;
    const exit = after.exitCode === null ? "" : `, exit ${after.exitCode}`;
    events.push({ kind: "status", text: `${after.status}${attempt}${exit}` });
  }
  return events;
}

/** The follow's own events worth a line on the page: its link lost and found again. */
export function followEvent(event: RunEvent): PageEvent | undefined {
  if (event.type === "reconnecting")
    return {
      kind: "reconnect",
      text: `link lost (${event.reason}): reconnecting, try ${event.attempt}`,
    };
  if (event.type === "reconnected")
    return { kind: "reconnect", text: `reconnected; the log resumes at byte ${event.offset}` };
  return undefined;
}
