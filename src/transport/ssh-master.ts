// The ControlMaster's life: found or started (`ssh -O check`, `ssh -f -N`), asked (`ssh -O <op>`).
import { runDaemonizing, runProcess } from "./process.js";
import { NO_ANSWER } from "./ssh-errors.js";
import type { ExecResult } from "./types.js";

/** A master to start: the shared ssh options (control path included), the host and its bounds. */
export interface MasterSpec {
  baseArgs: string[];
  host: string;
  connectTimeoutSeconds: number;
  persistSeconds: number;
}

/** Asks the master a control command (`check`, `stop`, `exit`, `forward`, `cancel`). */
export function controlMaster(
  spec: Pick<MasterSpec, "baseArgs" | "host">,
  op: string,
  extra: string[] = [],
  signal?: AbortSignal,
): Promise<ExecResult> {
  return runProcess(
    ["ssh", ...spec.baseArgs, "-O", op, ...extra, "--", spec.host],
    signal ? { signal } : {},
  ).then((result) => ({ ...result, connectionFailed: false }));
}

/** Reuses a live master or starts one; resolves undefined once there is one, else the failed result. */
export async function startMaster(
  spec: MasterSpec,
  signal?: AbortSignal,
): Promise<ExecResult | undefined> {
  const check = await controlMaster(spec, "check", [], signal);
  if (check.code === 0) return undefined;
  const result = await runDaemonizing(
    [
      "ssh",
      ...spec.baseArgs,
      "-o",
      "ControlMaster=yes",
      "-o",
      `ControlPersist=${spec.persistSeconds}`,
      "-f",
      "-N",
      "--",
      spec.host,
    ],
    // ConnectTimeout bounds TCP and the banner; this bounds a handshake that stalls after them, with room
    // for key exchange and auth on a busy machine (2 s of connect_timeout cut them short under CI load).
    { timeoutMs: (spec.connectTimeoutSeconds * 2 + 5) * 1000, ...(signal ? { signal } : {}) },
  );
  if (result.code === 0) return undefined;
  // Killed by the bound above (not by the caller): ConnectTimeout covers only TCP and the banner.
  const timedOut = result.code === 137 && signal?.aborted !== true;
  const stderr = timedOut ? `${result.stderr}${NO_ANSWER}\n` : result.stderr;
  return { ...result, stderr, connectionFailed: true };
}
