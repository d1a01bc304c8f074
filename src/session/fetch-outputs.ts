// Brings a finished run's outputs home, reconnecting with the log's backoff when the link drops, so a
// drop mid-download costs a retry rather than the artifacts.
import { isOffloadError, OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { type DownloadRequest, type DownloadResult, downloadArtifacts } from "../sync/download.js";
import { reconnectDelayMs, sleep } from "../transport/backoff.js";

export interface FetchRetry {
  report: Reporter;
  /** How long after the first drop the download keeps trying. */
  reconnectTimeoutMs: number;
  runId: string;
  signal?: AbortSignal | undefined;
}

/** Downloads; on a dropped connection reconnects and downloads again (rsync skips what is home). */
export async function fetchOutputs(
  request: DownloadRequest,
  retry: FetchRetry,
): Promise<DownloadResult> {
  const attemptRequest = { ...request, fetched: new Set<string>() };
  let attempt = 0;
  // One budget from the first drop: a link that keeps breaking mid-download must end, not loop.
  let deadline = 0;
  for (;;) {
    try {
      return await downloadArtifacts(attemptRequest);
    } catch (error) {
      if (!isOffloadError(error) || error.code !== "E_DISCONNECTED") throw error;
      if (attempt === 0) deadline = Date.now() + retry.reconnectTimeoutMs;
      if (Date.now() > deadline || retry.signal?.aborted) throw gaveUp(error, retry);
      attempt += 1;
      const delayMs = reconnectDelayMs(attempt);
      retry.report({ type: "reconnecting", attempt, delayMs, reason: error.message });
      await sleep(delayMs, retry.signal);
      try {
        await request.transport.connect(retry.signal);
      } catch {
        continue;
      }
      retry.report({ type: "download-resumed" });
    }
  }
}

function gaveUp(error: OffloadError, retry: FetchRetry): OffloadError {
  return new OffloadError(
    "E_DOWNLOAD",
    `${error.message.replace(/\.$/, "")}, and it did not come back within ${Math.round(retry.reconnectTimeoutMs / 1000)} s: the outputs are not all home.`,
    {
      hint: `The run has finished and its files are still on the host: \`offload attach ${retry.runId}\` fetches them again.`,
      cause: error,
    },
  );
}
