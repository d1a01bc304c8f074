// The host between two attempts: whether `offload stop` ended the last one, and readying the run dir for
// the next (the rest of the last attempt stopped, its run dir kept aside, the lock taken again).
import type { RunControls } from "../context.js";
import { OffloadError } from "../errors.js";
import { readMarkers } from "../remote/markers.js";
import { buildRetryScript, buildStopRequestedScript } from "../remote/retry.js";
import type { RecordWriter } from "../runs/record-writer.js";
import { sleep } from "../transport/backoff.js";
import type { Transport } from "../transport/types.js";
import { lockedError } from "./lock.js";
import { type RestoreRequest, restoreCheckpoint } from "./restore-checkpoint.js";

/** The restore's needs, and how long the host may stay away while the next attempt is readied. */
export interface RetryHostRequest extends RestoreRequest {
  controls: RunControls;
  reconnectTimeoutSeconds: number;
  graceSeconds: number;
}

/** `offload stop` from another terminal left its mark on the host: the job's end is a stop. */
export async function wasStopped(request: {
  transport: Transport;
  writer: RecordWriter;
}): Promise<boolean> {
  const { transport } = request;
  const { record } = request.writer;
  const result = await transport.exec(buildStopRequestedScript(record.target.remoteDir, record.id));
  if (result.code !== 0 || result.connectionFailed) return false;
  await request.writer.update({
    stopRequested: true,
    ...(record.status === "failed" ? { status: "stopped" as const } : {}),
  });
  return true;
}

/**
 * On the host: stops what is left of the last attempt, keeps its run dir aside, takes the lock again; then
 * puts the last checkpoint back where the job wrote it (from home, or from the bucket).
 */
export async function prepareNextAttempt(
  request: RetryHostRequest,
  attempt: number,
): Promise<void> {
  const { transport } = request;
  const { record } = request.writer;
  const remoteDir = record.target.remoteDir;
  const deadline = Date.now() + request.reconnectTimeoutSeconds * 1000;
  for (let tries = 1; ; tries++) {
    const result = await transport.exec(
      buildRetryScript(remoteDir, record.id, attempt, request.graceSeconds),
    );
    if (!result.connectionFailed) {
      const markers = readMarkers(result.stderr);
      if (markers.locked !== undefined) throw lockedError(transport, remoteDir, markers.locked);
      if (result.code !== 0)
        throw new OffloadError(
          "E_LAUNCH",
          `Could not prepare attempt ${attempt + 1} of run ${record.id} on ${transport.label}: ${result.stderr.trim()}`,
          { hint: "Check the remote dir is writable; `offload logs` shows the last attempt." },
        );
      break;
    }
    if (Date.now() > deadline) throw transport.explain(result);
    request.report({ type: "reconnecting", attempt: tries, delayMs: 2000, reason: "retry" });
    await sleep(2000, request.controls.stop);
  }
  await restoreCheckpoint(request);
}
