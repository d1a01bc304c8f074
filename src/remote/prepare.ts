// Builds the first round trip of a run: create the remote dir, resolve it to an absolute path, and see
// which tools the host has — one script, because every extra command costs a remote shell start. A run
// takes the remote dir's lock here too, before its sync changes a byte there.

import { quoteRemotePath } from "../shell/quote.js";
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { buildHeldLaunchSteps } from "./launch.js";
import { MARK } from "./layout.js";
import { buildTakeLockSteps, type LockRequest } from "./lock.js";
import { buildNodeHoldSteps } from "./node-hold.js";
import { buildSyncProofSteps, type SyncProofRequest } from "./sync-proof.js";

export interface PreparedHost {
  /** The remote dir as an absolute path, `~` resolved. */
  remoteDir: string;
  rsync: boolean;
  /** The remote user's home, for `~/` in upload mappings. */
  home: string;
  /** Nothing in the remote dir but offload's own state: a first sync may stream a tar (sync/first-sync.ts). */
  empty: boolean;
  /** The host's tar is GNU tar (asked only when the dir is empty). */
  gnuTar: boolean;
  /**
   * The address this ssh connection reached the host at (`$SSH_CONNECTION`'s third field; "" for a
   * local shell): a job across nodes learns each node's address here, with no round trip of its own.
   */
  reached: string;
  /** The host's boot id (Linux; "" elsewhere): its facts probed since this boot still hold. */
  bootId: string;
}

/**
 * Whether the dir holds anything but `.offload` (shell builtins only: this runs on every run), and where it
 * holds nothing, whether tar is GNU tar: the one process this adds runs only before a first sync.
 */
const EMPTY_STEPS = [
  `offload_empty=yes; for f in * .[!.]* ..?*; do { [ -e "$f" ] || [ -L "$f" ]; } || continue; [ "$f" = .offload ] || { offload_empty=no; break; }; done`,
  `if [ $offload_empty = yes ]; then echo empty=yes; case $(tar --version 2>/dev/null) in *"GNU tar"*) echo tar=gnu ;; esac; fi`,
];

/**
 * With `lock`, takes the remote dir's lock or exits 3 having changed nothing (MARK.locked on stderr);
 * then, for a run that syncs, proves its last sync unchanged or stamps this one (remote/sync-proof.ts).
 * With `held` (a launch script) as well, a proven prepare waits to run it (buildHeldLaunchSteps); with
 * `nodeHold` (a node of a job across hosts), every prepare that took the lock holds for the node's
 * upload and launch (remote/node-hold.ts).
 */
export function buildPrepareScript(
  remoteDir: string,
  lock?: LockRequest,
  sync?: {
    proof?: SyncProofRequest | undefined;
    held?: string | undefined;
    nodeHold?: boolean;
    /** A node's hold: the boot id in which this host said its head is GNU's (node-hold.ts). */
    gnuHeadBoot?: string | undefined;
  },
): string {
  const held = lock !== undefined && sync?.proof !== undefined ? sync.held : undefined;
  const nodeHold = lock !== undefined && sync?.nodeHold === true && held === undefined;
  return [
    ...(lock === undefined ? [] : [PROTOCOL_FUNCTIONS]),
    `D=${quoteRemotePath(remoteDir)}`,
    // A builtin test first: the dir is there on every run but the first, and mkdir is a process start
    // on every host of every job.
    `[ -d "$D" ] || mkdir -p "$D" || { printf '${MARK.unwritable} %s\\n' "$D" >&2; exit 1; }`,
    `cd "$D" || exit 1`,
    ...(lock === undefined ? [] : buildTakeLockSteps(lock)),
    ...(lock === undefined || sync === undefined
      ? []
      : buildSyncProofSteps(lock.runId, sync.proof)),
    `if command -v rsync >/dev/null 2>&1; then echo rsync=yes; else echo rsync=no; fi`,
    ...EMPTY_STEPS,
    `printf 'home=%s\\n' "$HOME"`,
    // A builtin read: no process, on every run.
    `offload_boot=; { read -r offload_boot < /proc/sys/kernel/random/boot_id; } 2>/dev/null`,
    `printf 'boot=%s\\n' "$offload_boot"`,
    // Last, as it replaces the positional parameters.
    `set -- $SSH_CONNECTION; printf 'reached=%s\\n' "\${3:-}"`,
    `printf '${MARK.dir} %s\\n' "$PWD"`,
    ...(held === undefined ? [] : buildHeldLaunchSteps(held)),
    ...(nodeHold && lock !== undefined ? buildNodeHoldSteps(sync?.gnuHeadBoot) : []),
  ].join("\n");
}

export function parsePrepareOutput(stdout: string): PreparedHost | undefined {
  const marker = `${MARK.dir} `;
  const at = stdout.lastIndexOf(marker);
  if (at < 0) return undefined;
  const remoteDir = stdout.slice(at + marker.length).replace(/\n$/, "");
  const head = stdout.slice(0, at);
  const home = /^home=(.*)$/m.exec(head)?.[1] ?? "";
  const reached = /^reached=(.*)$/m.exec(head)?.[1] ?? "";
  const bootId = /^boot=([0-9a-f-]*)$/m.exec(head)?.[1] ?? "";
  return {
    remoteDir,
    rsync: /^rsync=yes$/m.test(head),
    home,
    empty: /^empty=yes$/m.test(head),
    gnuTar: /^tar=gnu$/m.test(head),
    reached,
    bootId,
  };
}
