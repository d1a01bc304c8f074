// Builds the script that asks a host, in one round trip, how each of several runs stands: ended (with
// its exit status), running (its launcher proven alive), lost (launcher gone without an exit status) or
// missing (no run dir). `offload ps` uses it to tell the truth about runs nobody followed to the end.

import { quoteShell } from "../shell/quote.js";
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { remoteRunDir } from "./layout.js";
import { readExitCode } from "./markers.js";

export const STATUS_MARK = "offload-status";

export interface RunLocation {
  remoteDir: string;
  runId: string;
}

export type HostRunState =
  | {
      state: "ended";
      code: number | null;
      /** Host stamps, in ms since the epoch (the end falls back to the exit file's time). */
      endedMs?: number;
      startedMs?: number;
      displacedBy?: string;
    }
  | { state: "running" }
  | { state: "lost" }
  | { state: "missing" };

/** One line a run on stdout: `offload-status <id> <state> [<code> <end ms> <start ms> [<displaced by>]]`. */
export function buildRunStatusScript(runs: readonly RunLocation[]): string {
  const lines = [
    PROTOCOL_FUNCTIONS,
    `offload_status() {
  ( cd "$1" 2>/dev/null || { echo "${STATUS_MARK} $2 missing"; exit 0; }
    id=$2; R=.offload/runs/$id
    offload_ended() {
      [ -f "$R/exit" ] || return 1
      c=; read -r c < "$R/exit"; by=; [ -f "$R/displaced" ] && read -r by < "$R/displaced"
      ts=; te=; read -r ts < "$R/started" 2>/dev/null; read -r te < "$R/ended" 2>/dev/null
      [ -n "$te" ] || te=$(date -r "$R/exit" +%s000 2>/dev/null)
      echo "${STATUS_MARK} $id ended \${c:-?} \${te:--} \${ts:--} $by"
    }
    offload_ended && exit 0
    [ -d "$R" ] || { echo "${STATUS_MARK} $id missing"; exit 0; }
    [ -f "$R/launcher.pid" ] || { echo "${STATUS_MARK} $id running"; exit 0; }
    offload_read_launcher "$R"
    if offload_launcher_alive; then echo "${STATUS_MARK} $id running"
    # The launcher may have written exit and ended since the first look.
    elif ! offload_ended; then echo "${STATUS_MARK} $id lost"; fi )
}`,
  ];
  for (const run of runs) {
    // remoteRunDir refuses an id offload did not make; quoting covers the rest.
    remoteRunDir(run.runId);
    lines.push(`offload_status ${quoteShell(run.remoteDir)} ${quoteShell(run.runId)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The states the status script printed, by run id; a run it did not mention is absent. */
export function parseRunStatus(stdout: string): Map<string, HostRunState> {
  const states = new Map<string, HostRunState>();
  for (const line of stdout.split("\n")) {
    const [mark, id, state, code, ended, started, by] = line.trim().split(" ");
    if (mark !== STATUS_MARK || id === undefined) continue;
    if (state === "running" || state === "lost" || state === "missing") states.set(id, { state });
    else if (state === "ended") {
      const result: HostRunState = {
        state: "ended",
        code: readExitCode(code ?? "") ?? null,
      };
      const ms = (text: string | undefined) =>
        /^[1-9][0-9]*$/.test(text ?? "") ? Number(text) : undefined;
      const endedMs = ms(ended);
      const startedMs = ms(started);
      if (endedMs !== undefined) result.endedMs = endedMs;
      if (startedMs !== undefined) result.startedMs = startedMs;
      if (by) result.displacedBy = by;
      states.set(id, result);
    }
  }
  return states;
}
