// The sentence a person reads for each event the library reports; the library itself says no English.
// Every event type has a case here: the `never` at the end fails the build for one without.
import type { NoticeEvent, RunEvent } from "../events.js";
import { formatSeconds } from "../report/format.js";
import { describeLockHolder } from "../session/lock.js";
import { bytes } from "./bytes.js";

function seconds(ms: number): string {
  return formatSeconds(ms, " s");
}

/** `1 file`, `3 files`: a count with its noun, never "1 files". */
export function countOf(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}

const NOTICE_TYPES: Record<NoticeEvent["type"], true> = {
  "lock-reclaimed": true,
  "lock-forced": true,
  displaced: true,
  attached: true,
  stopping: true,
  "stop-failed": true,
  "disk-full": true,
  "outputs-failed": true,
  "download-resumed": true,
  retrying: true,
  "checkpoint-restored": true,
  "input-fetched": true,
  "results-pushed": true,
  forwarding: true,
  "forward-failed": true,
  "slurm-submitted": true,
  "slurm-state": true,
  "slurm-cancelling": true,
  "slurm-cancel-failed": true,
  "slurm-unreachable": true,
  "nodes-stopping": true,
  "nodes-ended": true,
};

/** Whether an event is one of the facts worth a line even where little is shown (a sweep's runs). */
export function isNotice(event: RunEvent): event is NoticeEvent {
  return Object.hasOwn(NOTICE_TYPES, event.type);
}

/** The line a person sees for an event, or undefined for events shown otherwise (output) or not at all. */
export function describeEvent(event: RunEvent): string | undefined {
  switch (event.type) {
    case "connected":
      return `connected to ${event.target} (${seconds(event.ms)})`;
    case "synced":
      // A big tar sync's size is not measured (sync-state.ts): no "0 B" for files that were sent.
      return `synced ${countOf(event.scanned, "file")} with ${event.tool}: ${event.transferred} sent${event.bytes === 0 && event.tool === "tar" ? "" : `, ${bytes(event.bytes)}`}${event.removed > 0 ? `, ${event.removed} removed there (deleted here)` : ""} (${seconds(event.ms)})`;
    case "env":
      if (event.phase === "checking") return `python env ${event.key}: checking`;
      return `python env ${event.phase === "reused" ? "reused" : "built"}: ${event.dir}${event.ms === undefined ? "" : ` (${seconds(event.ms)})`}`;
    case "launched":
      return `run ${event.runId} started in ${event.remoteDir}`;
    case "reconnecting":
      return `connection lost: ${event.reason}; reconnecting in ${seconds(event.delayMs)} (attempt ${event.attempt})`;
    case "reconnected":
      return `reconnected; resuming the log from byte ${event.offset}`;
    case "downloaded":
      return `downloaded ${countOf(event.files, "file")}${event.missing.length > 0 ? `; nothing matched ${event.missing.map((m) => `\`${m}\``).join(", ")}` : ""}${event.skipped.length > 0 ? `; symlinks not followed: ${event.skipped.map((m) => `\`${m}\``).join(", ")}` : ""} (${seconds(event.ms)})`;
    case "checkpoint":
      return `checkpoint: ${countOf(event.files, "file")} ${event.to === "home" ? "fetched home" : "put into the bucket"}`;
    case "finished":
      return event.exitCode === 0
        ? `run ${event.runId} finished (exit 0) in ${seconds(event.ms)}`
        : `run ${event.runId} ${event.status}${event.exitCode === null ? "" : ` (exit ${event.exitCode})`} after ${seconds(event.ms)}`;
    case "machine-note":
      return event.text;
    case "machine-wait":
      return `waiting for ${event.what}`;
    case "machine-ready":
      return `machine: ${event.tag} (${event.id}) at ${event.address}`;
    case "machine-setup-cached":
      return "machine: setup already done on this machine";
    case "machine-interrupted":
      return "interrupted: deleting the machine (Ctrl+C again leaves it for the next offload command)";
    case "machine-budget-stop":
      return `budget: stopping the run before the budget of $${event.budgetUsd} is spent`;
    case "machine-deleting":
      return `machine: deleting ${event.tag}`;
    case "machine-released":
      return `machine: ${event.tag} ${event.kept ? "kept" : "gone"}${event.costUsd === undefined ? "" : `; cost $${event.costUsd.toFixed(2)}`}`;
    case "machine-left":
      return `machine ${event.tag} is left running: the next offload command deletes it (\`offload down ${event.tag}\` does it now)`;
    // Shown otherwise (the log, a bar, the status line, the error paragraph) or not at all.
    case "machine-output":
    case "connecting":
    case "syncing":
    case "transfer":
    case "env-output":
    case "output":
    case "downloading":
    case "failed":
    case "progress":
    case "metric":
    case "machine":
      return undefined;
    default:
      return describeNotice(event);
  }
}

function describeNotice(event: NoticeEvent): string {
  switch (event.type) {
    case "lock-reclaimed":
      return `reclaimed the remote dir's lock from ${describeLockHolder(event)}, which is no longer running`;
    case "lock-forced":
      return event.unlaunched
        ? `--force: took over the remote dir's lock from ${describeLockHolder(event)}, which had not started its job (nothing was stopped)`
        : `--force: stopped ${describeLockHolder(event)} and took over the remote dir`;
    case "displaced":
      return `run ${event.by} took over the remote dir with --force and stopped this run`;
    case "attached":
      if (event.slurmJobId !== undefined)
        return `attached to run ${event.runId} (Slurm job ${event.slurmJobId}) at byte ${event.offset} of its log`;
      if (event.ended)
        return `attached to run ${event.runId}, which has ended; the log resumes at byte ${event.offset}`;
      return event.stopping
        ? `attached to run ${event.runId}; the log resumes at byte ${event.offset}`
        : `attached to run ${event.runId} at byte ${event.offset} of its log; Ctrl+C stops watching (the run goes on), \`offload stop ${event.runId}\` stops it`;
    case "stopping":
      return `stopping run ${event.runId}: TERM to its processes, KILL after ${event.graceSeconds} s if they still run (Ctrl+C again to stop waiting; the host finishes the stop)`;
    case "stop-failed":
      return `could not stop the run yet: ${event.reason}`;
    case "disk-full":
      return `The file system of ${event.remoteDir} on ${event.target} is full: the job's output, files and status may be cut short. (Free space there; \`df -h\` shows it.)`;
    case "outputs-failed":
      return `${event.message}${event.hint ? ` (${event.hint})` : ""}`;
    case "download-resumed":
      return "reconnected; resuming the download";
    case "retrying":
      return `attempt ${event.attempt} of ${event.attempts} ${event.why === "lost" ? "lost the host" : "failed"}; retrying in ${event.backoffSeconds} s from the last checkpoint (its log: ${event.log})`;
    case "checkpoint-restored":
      return `put back ${countOf(event.files, "checkpoint file")} ${event.from === "bucket" ? "from the bucket" : `on ${event.target}`}`;
    case "input-fetched":
      return event.cached
        ? `input ${event.url} → ${event.dest}: in the host's cache (ETag ${event.etag}), nothing transferred`
        : `input ${event.url} → ${event.dest}: fetched ${event.bytes} bytes`;
    case "results-pushed":
      return `results: ${countOf(event.files, "file")} (${event.bytes} bytes) put into ${event.url} from ${event.from}; \`offload pull ${event.runId}\` brings them home`;
    case "forwarding":
      return `forwarding http://127.0.0.1:${event.local}/ -> ${event.target}:${event.remote}${event.taken === undefined ? "" : ` (local port ${event.taken} is in use)`}`;
    case "forward-failed":
      return `could not forward: ${event.reason}`;
    case "slurm-submitted":
      return `submitted Slurm job ${event.jobId}`;
    case "slurm-state":
      return `Slurm job ${event.jobId}: ${event.state}${event.reason === undefined ? "" : ` (${event.reason})`}${event.nodes === undefined ? "" : ` on ${event.nodes}`}`;
    case "slurm-cancelling":
      return `cancelling Slurm job ${event.jobId} (scancel: Slurm sends TERM, then KILL after its KillWait; Ctrl+C again to stop waiting)`;
    case "slurm-cancel-failed":
      return `could not cancel the job yet: ${event.reason}`;
    case "slurm-unreachable":
      return `Slurm does not answer yet: ${event.reason}`;
    case "nodes-stopping":
      if ("error" in event) return `${event.error}: stopping every other node`;
      return `${event.status}${event.exitCode === null ? "" : ` (exit ${event.exitCode})`}: stopping every other node`;
    case "nodes-ended": {
      const summary = event.nodes
        .map((n) => `n${n.node ?? "?"} ${n.status}${n.exitCode === null ? "" : ` (${n.exitCode})`}`)
        .join(", ");
      if (event.stoppedByUser)
        return `job on ${event.nodes.length} nodes stopped by Ctrl+C: ${summary}; logs: offload logs --node K ${event.nodes[0]?.runId ?? ""}`;
      return event.succeeded
        ? `job on ${event.nodes.length} nodes finished: ${summary}; logs: offload logs --node K ${event.nodes[0]?.runId ?? ""}`
        : `job on ${event.nodes.length} nodes ended by node ${event.decisive.node} (${event.decisive.target}, run ${event.decisive.runId}): ${summary}`;
    }
    default:
      return unrendered(event);
  }
}

/** Reached only by an event type with no case above, which the compiler refuses. */
function unrendered(event: never): never {
  throw new Error(`no rendering for event ${JSON.stringify(event)}`);
}
