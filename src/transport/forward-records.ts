// Which offload holds each local port it forwards over a ControlMaster: one small file a port beside the
// control sockets. A forward lives in the master, not in offload: after a kill -9 of `offload forward`
// the master keeps the port bound until it exits (ControlPersist, 10 minutes by default), and the next
// forward of that port would move to another one. The record lets it cancel the dead offload's forward.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runProcess } from "./process.js";
import { isProcessRunning } from "./process-alive.js";

interface ForwardRecord {
  pid: number;
  /** The master's control socket: the forward is cancelled there, whichever host it reaches. */
  controlPath: string;
  /** The `-L` spec the master holds. */
  spec: string;
}

const recordPath = (dir: string, local: number) => join(dir, `forward-${local}.json`);

/** Notes that this offload forwards `local` over the master at `controlPath` (best effort). */
export async function recordForward(
  dir: string,
  local: number,
  controlPath: string,
  spec: string,
): Promise<void> {
  const record: ForwardRecord = { pid: process.pid, controlPath, spec };
  await writeFile(recordPath(dir, local), JSON.stringify(record), { mode: 0o600 }).catch(() => {});
}

/** Drops this offload's record of `local` (a record another offload wrote since is left). */
export async function dropForwardRecord(dir: string, local: number): Promise<void> {
  const record = await readRecord(dir, local);
  if (record?.pid === process.pid) await rm(recordPath(dir, local), { force: true });
}

/**
 * Cancels the forward of `local` that an offload which no longer runs left in its master; returns that
 * offload's pid, or undefined when no such forward is recorded (the port is someone else's, or a live
 * offload's: never taken from it).
 */
export async function reclaimForward(dir: string, local: number): Promise<number | undefined> {
  const record = await readRecord(dir, local);
  if (record === undefined || record.pid === process.pid || isProcessRunning(record.pid))
    return undefined;
  // The socket alone names the master (-F /dev/null: no config of the user's is needed to reach it);
  // the host word is only there because ssh wants one.
  const cancelled = await runProcess([
    "ssh",
    "-F",
    "/dev/null",
    "-o",
    `ControlPath=${record.controlPath}`,
    "-O",
    "cancel",
    "-L",
    record.spec,
    "--",
    "offload-forward",
  ]);
  await rm(recordPath(dir, local), { force: true });
  // No such forward there any more (its master exited): the port is held by something else.
  return cancelled.code === 0 ? record.pid : undefined;
}

async function readRecord(dir: string, local: number): Promise<ForwardRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath(dir, local), "utf8")) as ForwardRecord;
    const valid =
      Number.isInteger(record.pid) &&
      record.pid > 0 &&
      typeof record.controlPath === "string" &&
      typeof record.spec === "string" &&
      record.spec.startsWith("127.0.0.1:");
    return valid ? record : undefined;
  } catch {
    return undefined;
  }
}
