// Which run last took a remote dir (pure). Every run that takes the lock writes its id here, so that a
// download for an older run can tell that another run has used the dir since and left its own files
// there: runs that share a remote dir (one project on two machines, two projects with one remote_dir)
// write the same paths, and a run killed before its download must not bring the later run's home.
import { quoteShell } from "../shell/quote.js";
import { MARK, STATE_DIR } from "./layout.js";

/** Names the run that last took the remote dir's lock; unlike the lock, it stays after the run ends. */
export const LATEST_RUN_FILE = `${STATE_DIR}/latest-run`;

/**
 * The lock step's line that names this run as the dir's latest (builtins only: it runs on every run).
 * The `>` truncates before it writes: a write cut short (a full disk) leaves the file empty, and an
 * empty file names no run, which every download check refuses, rather than the previous run's id.
 */
export function buildRecordLatestRun(runId: string): string {
  return `{ printf '%s\\n' ${quoteShell(runId)} > ${LATEST_RUN_FILE}; } 2>/dev/null`;
}

/**
 * Lines for a download's listing round trip (run in the remote dir): exit 1 with the later run's id
 * when another run has taken the dir since `runId` did. No file at all (a dir whose runs were all
 * launched by an offload older than this check) proves nothing and lets the download go on.
 */
export function buildLatestRunCheck(runId: string): string[] {
  return [
    `offload_latest=; if [ -f ${LATEST_RUN_FILE} ]; then { read -r offload_latest _ < ${LATEST_RUN_FILE}; } 2>/dev/null`,
    `  case $offload_latest in *[!a-z0-9-]* | "") offload_latest=unknown ;; esac`,
    `  [ "$offload_latest" = ${quoteShell(runId)} ] || { printf '${MARK.laterRun} %s\\n' "$offload_latest" >&2; exit 1; }`,
    `fi`,
  ];
}

/**
 * The run a download check named (`unknown` where the file named none); undefined where it did not refuse.
 */
export function readLaterRun(stderr: string): string | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith(`${MARK.laterRun} `));
  return line?.slice(MARK.laterRun.length + 1).trim() || undefined;
}
