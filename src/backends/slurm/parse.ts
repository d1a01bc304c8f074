// Parses what Slurm says (squeue, scontrol show job -o, sacct -P lines) and the Slurm scripts' markers
// into SlurmJobStatus; pure.
import { SLURM_MARK } from "./markers.js";
import { isActiveState, type SlurmJobStatus } from "./types.js";

/** `3:0` → 3; `0:9` (killed by signal 9) → 137, as a shell reports it; unreadable → undefined. */
export function parseExitCode(text: string): number | undefined {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (match === null) return undefined;
  const signal = Number(match[2]);
  return signal !== 0 ? 128 + signal : Number(match[1]);
}

/** `CANCELLED by 0` → `CANCELLED`; `COMPLETED` stays. */
function normalizeState(text: string): string {
  return text.trim().split(/\s+/)[0] ?? "";
}

/**
 * Slurm's reason for the state, if it has one. A job cancelled while it waited keeps the reason it
 * waited for (`JobState=CANCELLED Reason=Resources`): that is not why it ended, so it is left out.
 */
function reasonOf(text: string | undefined, state: string): string | undefined {
  return text === undefined ||
    text === "" ||
    text === "None" ||
    text === "(null)" ||
    state === "CANCELLED"
    ? undefined
    : text;
}

/** squeue `-o '%T|%r|%N'`: `PENDING|Resources|` or `RUNNING|None|node[1-2]`. */
export function parseSqueueLine(jobId: string, line: string): SlurmJobStatus {
  const [state = "", reason, nodes] = line.trim().split("|");
  const status: SlurmJobStatus = { jobId, state: normalizeState(state), source: "squeue" };
  const why = reasonOf(reason, status.state);
  if (why !== undefined) status.reason = why;
  if (nodes !== undefined && nodes !== "" && nodes !== "(null)") status.nodes = nodes;
  return status;
}

/** One field of a `scontrol show job -o` line; values holding blanks (Command=, WorkDir=) are not read. */
function field(line: string, key: string): string | undefined {
  return new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1];
}

export function parseScontrolJob(jobId: string, line: string): SlurmJobStatus {
  const state = normalizeState(field(line, "JobState") ?? "");
  const status: SlurmJobStatus = { jobId, state, source: "scontrol" };
  const why = reasonOf(field(line, "Reason"), state);
  if (why !== undefined) status.reason = why;
  const nodes = field(line, "NodeList");
  if (nodes !== undefined && nodes !== "" && nodes !== "(null)") status.nodes = nodes;
  const exit = parseExitCode(field(line, "ExitCode") ?? "");
  if (exit !== undefined && !["PENDING", "RUNNING", "CONFIGURING"].includes(state)) {
    status.exitCode = exit;
  }
  return status;
}

/** sacct `-P -o JobID,State,ExitCode`: `12|FAILED|3:0`, `12|CANCELLED by 0|0:15`. */
export function parseSacctLine(jobId: string, line: string): SlurmJobStatus {
  const [, state = "", exit = ""] = line.trim().split("|");
  const status: SlurmJobStatus = { jobId, state: normalizeState(state), source: "sacct" };
  const code = parseExitCode(exit);
  if (code !== undefined) status.exitCode = code;
  return status;
}

/** A marker line of the Slurm scripts, or undefined for any other stderr line. */
export type SlurmMarker =
  | { kind: "job"; jobId: string }
  | { kind: "status"; status: SlurmJobStatus }
  | { kind: "unreachable"; message: string }
  | { kind: "aborted" };

export function parseMarker(jobId: string, line: string): SlurmMarker | undefined {
  const space = line.indexOf(" ");
  const mark = space < 0 ? line : line.slice(0, space);
  const rest = space < 0 ? "" : line.slice(space + 1);
  switch (mark) {
    case SLURM_MARK.job:
      return { kind: "job", jobId: rest.trim() };
    case SLURM_MARK.state:
      return { kind: "status", status: parseSqueueLine(jobId, rest) };
    case SLURM_MARK.scontrol:
      return { kind: "status", status: parseScontrolJob(jobId, rest) };
    case SLURM_MARK.sacct:
      return { kind: "status", status: parseSacctLine(jobId, rest) };
    case SLURM_MARK.unknown:
      return { kind: "status", status: { jobId, state: "UNKNOWN", source: "unknown" } };
    case SLURM_MARK.unreachable:
      return { kind: "unreachable", message: rest };
    case SLURM_MARK.aborted:
      return { kind: "aborted" };
    default:
      return undefined;
  }
}

/** Every marker of a finished script's stderr, in order; other lines are left out. */
export function parseMarkers(jobId: string, stderr: string): SlurmMarker[] {
  return stderr
    .split("\n")
    .map((line) => parseMarker(jobId, line.replace(/\r$/, "")))
    .filter((marker): marker is SlurmMarker => marker !== undefined);
}

/** The last status among markers: the script's final word on the job. */
export function lastStatus(markers: readonly SlurmMarker[]): SlurmJobStatus | undefined {
  const statuses = markers.flatMap((m) => (m.kind === "status" ? [m.status] : []));
  return statuses.at(-1);
}

/** Ends that Slurm imposed with a signal; jobcomp records some of them as `0:0`. */
const SIGNALLED_ENDS: Record<string, number> = {
  CANCELLED: 128 + 15,
  TIMEOUT: 128 + 15,
  PREEMPTED: 128 + 15,
  DEADLINE: 128 + 15,
  OUT_OF_MEMORY: 128 + 9,
  NODE_FAIL: 128 + 9,
  BOOT_FAIL: 128 + 9,
};

/**
 * The run's exit code from how the job ended: Slurm's own code where it says one, else one that never
 * reads as success for an end Slurm imposed (the jobcomp file records a cancelled job as `0:0`).
 * Undefined while the job has not ended, or when nobody knows it any more.
 */
export function exitCodeOf(status: SlurmJobStatus): number | undefined {
  if (status.state === "UNKNOWN" || status.state === "" || isActiveState(status.state)) {
    return undefined;
  }
  const imposed = SIGNALLED_ENDS[status.state];
  if (imposed !== undefined) return status.exitCode || imposed;
  if (status.state === "COMPLETED") return status.exitCode ?? 0;
  // FAILED and any state newer than this list: never 0.
  return status.exitCode || 1;
}
