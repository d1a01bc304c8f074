// Builds the scripts `offload logs` reads a run's remote log with, without following it: from a byte
// offset, or its last lines. `logs -f` follows with the follow script itself (src/remote/follow.ts).

import { quoteShell } from "../shell/quote.js";
import { MARK, remoteRunDir } from "./layout.js";

/** Before the bytes: a run dir that is gone says so on stderr instead of printing nothing. */
function openRun(remoteDir: string, runId: string): string[] {
  return [
    `cd ${quoteShell(remoteDir)} || exit 1`,
    `R=${quoteShell(remoteRunDir(runId))}; L="$R/output.log"`,
    `[ -f "$L" ] || { printf '${MARK.exit} missing\\n' >&2; exit 0; }`,
  ];
}

/** The log from byte `offset` to its current end. */
export function buildLogFromScript(remoteDir: string, runId: string, offset: number): string {
  const from = Math.max(0, Math.floor(offset));
  return [...openRun(remoteDir, runId), `tail -c +${from + 1} "$L"`, ""].join("\n");
}

/**
 * The last `lines` lines of the log as it is now, then its size at that moment on stderr
 * (`MARK.logSize`): where a follow picks up without losing or repeating a byte.
 */
export function buildLogTailScript(remoteDir: string, runId: string, lines: number): string {
  const n = Math.max(0, Math.floor(lines));
  return [
    ...openRun(remoteDir, runId),
    `size=$(wc -c < "$L"); size=$((size + 0))`,
    `head -c "$size" "$L" | tail -n ${n}`,
    `printf '${MARK.logSize} %s\\n' "$size" >&2`,
    "",
  ].join("\n");
}

/** The logs scripts' stderr: whether the run's log is gone, and its size where the tail script said. */
export function readLogReply(stderr: string): { missing: boolean; size?: number } {
  const missing = stderr.includes(`${MARK.exit} missing`);
  const size = new RegExp(`${MARK.logSize} ([0-9]+)`).exec(stderr)?.[1];
  return size === undefined ? { missing } : { missing, size: Number(size) };
}
