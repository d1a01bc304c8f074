// A node's first sync down its held prepare connection (held-launch.ts, remote/node-hold.ts): the
// job's one archive, unpacked by the shell that holds the node's lock, instead of an ssh of its own.
import { syncError } from "../sync/upload.js";
import type { Transport } from "../transport/types.js";
import type { HeldLaunch } from "./held-launch.js";

/**
 * Sends `archive` (the job's shared first-sync archive, when there is one) down the node's held
 * connection; undefined where that does not apply (no hold, not a first tar sync into GNU tar, no
 * archive, the connection gone): the caller uploads as before.
 */
export async function untarHeld(
  transport: Transport,
  prepared: { held?: HeldLaunch | undefined; upload: string; gnuTar: boolean },
  archive: (() => Promise<Uint8Array | undefined>) | undefined,
  files: number,
): Promise<{ tool: "tar"; files: number; bytes: number } | undefined> {
  const untar = prepared.held?.untar;
  if (untar === undefined || prepared.upload !== "tar" || !prepared.gnuTar) return undefined;
  const bytes = await archive?.();
  if (bytes === undefined) return undefined;
  const reply = await untar(bytes);
  // Status 255: the connection ended mid-step (a lost host, a killed ssh), no error of tar's: the
  // ordinary upload goes on, and says why it cannot reach the host if it cannot.
  if (reply === undefined || reply.code === 255) return undefined;
  if (reply.code !== 0) throw syncError(transport, reply.code, reply.stderr);
  return { tool: "tar", files, bytes: 0 };
}
