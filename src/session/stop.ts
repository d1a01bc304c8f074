// Stopping a run from this or another terminal: TERM to the job's process group, KILL after a grace
// period; the launcher then runs the shutdown commands and writes the exit status.
import { OffloadError } from "../errors.js";
import { buildStopScript } from "../remote/stop.js";
import type { Transport } from "../transport/types.js";

export type StopOutcome = "stopped" | "already-ended" | "pending";

export async function stopRemoteRun(
  transport: Transport,
  remoteDir: string,
  runId: string,
  graceSeconds: number,
): Promise<StopOutcome> {
  await transport.connect();
  const result = await transport.exec(buildStopScript(remoteDir, runId, graceSeconds));
  if (result.connectionFailed) throw transport.explain(result);
  if (result.stderr.includes("offload-stop missing")) {
    throw new OffloadError(
      "E_RUN_NOT_FOUND",
      `Run ${runId} is not in ${remoteDir} on ${transport.label}.`,
      {
        hint: "The remote dir may have been removed; `offload ps` shows where each run ran.",
      },
    );
  }
  if (result.stderr.includes("offload-stop ended")) return "already-ended";
  return result.stderr.includes("offload-stop stopped") ? "stopped" : "pending";
}
