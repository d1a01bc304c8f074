// Builds the script that stops a run from anywhere: the whole process group gets TERM, then KILL after a
// grace period, so nothing of the job is left holding a GPU; a group not proven to be the run's is never
// signalled (see alive.ts).

import { quoteShell } from "../shell/quote.js";
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { remoteRunDir } from "./layout.js";

export const DEFAULT_GRACE_SECONDS = 10;

/** What the stop script says on stderr: `offload-stop <outcome>[ <why>]`. */
export const STOP_MARK = "offload-stop";

export function buildStopScript(
  remoteDir: string,
  runId: string,
  graceSeconds = DEFAULT_GRACE_SECONDS,
): string {
  return [
    // The stop goes on when the ssh that started it goes (a second Ctrl+C): KILL still follows TERM.
    `trap '' HUP PIPE`,
    // Said once the stop can no longer be cut off: offload leaving before this line would end the
    // script with its ssh, before any signal (a second Ctrl+C under load).
    `echo "${STOP_MARK} armed" >&2`,
    PROTOCOL_FUNCTIONS,
    // No remote dir, no pid file to prove a group by: nothing is signalled, and the stop says so.
    `cd ${quoteShell(remoteDir)} 2>/dev/null || { echo "${STOP_MARK} missing" >&2; exit 4; }`,
    `R=${quoteShell(remoteRunDir(runId))}`,
    `[ -d "$R" ] || { echo "${STOP_MARK} missing" >&2; exit 4; }`,
    `if [ -f "$R/exit" ]; then echo "${STOP_MARK} ended" >&2; exit 0; fi`,
    // Said before the signals: a run with `retry:` must not take the stopped job for a failed one.
    `: > "$R/stop-requested" 2>/dev/null`,
    `offload_stop "$R" ${Math.max(0, Math.round(graceSeconds))}`,
    `if [ $? = 3 ]; then printf '${STOP_MARK} unproven %s\\n' "$offload_why" >&2; exit 5; fi`,
    `if [ -f "$R/exit" ]; then echo "${STOP_MARK} stopped" >&2; else echo "${STOP_MARK} pending" >&2; fi`,
  ].join("\n");
}

/** What the host said of a stop: `unproven` carries why it refused to signal. */
export type StopReply =
  | { kind: "missing" }
  | { kind: "unproven"; why: string }
  | { kind: "ended" }
  | { kind: "stopped" }
  | { kind: "pending" };

/** Why the host refused to signal, from `offload-stop unproven <why>` (also in a --force launch). */
export function readUnproven(stderr: string): string | undefined {
  const prefix = `${STOP_MARK} unproven`;
  const line = stderr.split("\n").find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  return line.slice(prefix.length).trim() || "no reason given";
}

/** True once the stop script has said it goes on without its ssh (`offload-stop armed`). */
export function isStopArmed(stderr: string): boolean {
  return stderr.includes(`${STOP_MARK} armed`);
}

/** Reads the stop script's stderr; no outcome line (the wait was cut short) reads as `pending`. */
export function parseStopReply(stderr: string): StopReply {
  if (stderr.includes(`${STOP_MARK} missing`)) return { kind: "missing" };
  const why = readUnproven(stderr);
  if (why !== undefined) return { kind: "unproven", why };
  if (stderr.includes(`${STOP_MARK} ended`)) return { kind: "ended" };
  return stderr.includes(`${STOP_MARK} stopped`) ? { kind: "stopped" } : { kind: "pending" };
}
