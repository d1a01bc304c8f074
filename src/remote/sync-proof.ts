// The prepare round trip's half of skipping an unchanged sync: the stamp a sync leaves in the remote dir,
// and the host's proof that nothing it received has changed since. The rule (ARCHITECTURE.md, "A sync
// is skipped"): every run that may sync writes `.offload/synced` (its run id) under the lock, before its
// sync changes a byte; a later run may skip its sync only when the stamp still names the run that
// synced, the remote dir is the same folder, and no synced file has a status change (ctime: any write,
// chmod, rename or replacement, which no tool can set back) after the stamp. Any doubt (a missing file,
// a find without -cnewer, a stamp from another workspace) says "not proven" and the run syncs.

import { quoteShell } from "../shell/quote.js";
import { RUN_ID_PATTERN, STATE_DIR } from "./layout.js";

export const SYNC_STAMP = `${STATE_DIR}/sync-stamp`;
export const UNCHANGED_MARK = "offload-sync-unchanged";

/** What a run asks the host to prove: the files the last sync sent, from the run that sent them. */
export interface SyncProofRequest {
  /** The run whose prepare wrote the stamp before its sync. */
  syncedBy: string;
  /** The remote dir as that prepare resolved it (absolute). */
  remoteDir: string;
  /** Paths relative to the remote dir, as synced. */
  files: readonly string[];
}

/**
 * The quoted paths of a proof, or undefined when they would not fit one command line (a remote shell
 * takes the script as one argument: 128 KiB on Linux); such a workspace is synced every time.
 */
export function quoteProofFiles(files: readonly string[], limit = 96 * 1024): string | undefined {
  let size = 0;
  const quoted: string[] = [];
  for (const file of files) {
    const word = quoteShell(`./${file}`);
    size += word.length + 1;
    if (size > limit) return undefined;
    quoted.push(word);
  }
  return quoted.join(" ");
}

/**
 * Steps run in the remote dir after the lock is taken: prove (MARK on stderr) or write this run's stamp.
 * `find` prints a synced path that is now a folder or changed since the stamp, and fails on one that is
 * gone; only an empty, successful answer proves.
 */
export function buildSyncProofSteps(runId: string, proof: SyncProofRequest | undefined): string[] {
  if (!RUN_ID_PATTERN.test(runId)) throw new Error(`not a run id: ${JSON.stringify(runId)}`);
  // Written in place (a builtin, no process): a torn stamp names no run, and proves nothing.
  const stamp = [`printf '%s\\n' ${runId} > ${SYNC_STAMP} || exit 1`];
  // Set only where the host proved the last sync unchanged (a held launch goes on only then).
  const unproven = "offload_unchanged=";
  if (proof === undefined || proof.files.length === 0 || !RUN_ID_PATTERN.test(proof.syncedBy))
    return [unproven, ...stamp];
  const quoted = quoteProofFiles(proof.files);
  if (quoted === undefined) return [unproven, ...stamp];
  return [
    unproven,
    `offload_by=; { read -r offload_by < ${SYNC_STAMP}; } 2>/dev/null`,
    `if [ "$offload_by" = ${proof.syncedBy} ] && [ "$PWD" = ${quoteShell(proof.remoteDir)} ] &&`,
    `  offload_changed=$(find ${quoted} -prune \\( -type d -o -cnewer ${SYNC_STAMP} \\) -print 2>/dev/null) &&`,
    `  [ -z "$offload_changed" ]; then`,
    `  offload_unchanged=yes; printf '${UNCHANGED_MARK}\\n' >&2`,
    "else",
    ...stamp.map((line) => `  ${line}`),
    "fi",
  ];
}

/** Whether the host proved the last sync's files unchanged. */
export function readSyncProof(stderr: string): boolean {
  return stderr.split("\n").includes(UNCHANGED_MARK);
}
