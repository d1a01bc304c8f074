// Streams a run's log into the local copy until the run has ended, reconnecting with backoff from the
// last byte received when the connection fails: nothing lost, nothing repeated.
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildFollowScript } from "../remote/follow.js";
import { MARK } from "../remote/layout.js";
import type { LogSink } from "../runs/store.js";
import type { Transport } from "../transport/types.js";

export type RunEnd = { kind: "exit"; code: number } | { kind: "lost" } | { kind: "missing" };

export interface FollowRequest {
  transport: Transport;
  remoteDir: string;
  runId: string;
  sink: LogSink;
  report: Reporter;
  /** How long to keep retrying a failed connection before giving up. */
  reconnectTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Reads the markers the remote scripts print on stderr. */
export function readMarkers(stderr: string): {
  launchedPid?: number;
  end?: RunEnd;
  locked?: string;
} {
  const found: { launchedPid?: number; end?: RunEnd; locked?: string } = {};
  for (const line of stderr.split("\n")) {
    if (line.startsWith(`${MARK.launched} `))
      found.launchedPid = Number(line.slice(MARK.launched.length + 1));
    else if (line.startsWith(`${MARK.locked} `)) found.locked = line.slice(MARK.locked.length + 1);
    else if (line.startsWith(`${MARK.exit} `)) {
      const value = line.slice(MARK.exit.length + 1).trim();
      if (value === "lost") found.end = { kind: "lost" };
      else if (value === "missing") found.end = { kind: "missing" };
      else if (/^[0-9]+$/.test(value)) found.end = { kind: "exit", code: Number(value) };
      else found.end = { kind: "lost" };
    }
  }
  return found;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Runs one stream attempt, writing stdout to the sink as it comes. */
export async function streamOnce(
  request: FollowRequest,
  script: string,
  launch?: { stdin: string; onLaunched: (pid: number) => void },
): Promise<{ markers: ReturnType<typeof readMarkers>; failed: boolean; stderr: string }> {
  const { transport, sink, report } = request;
  let stderrSoFar = "";
  const result = await transport.exec(script, {
    ...(launch === undefined
      ? {}
      : {
          stdin: launch.stdin,
          onStderr: (chunk: Buffer) => {
            const before = readMarkers(stderrSoFar).launchedPid;
            stderrSoFar += chunk.toString("utf8");
            const pid = readMarkers(stderrSoFar).launchedPid;
            if (before === undefined && pid !== undefined) launch.onLaunched(pid);
          },
        }),
    ...(request.signal ? { signal: request.signal } : {}),
    onStdout: (chunk) => {
      sink.write(chunk);
      report({ type: "output", data: chunk });
    },
  });
  const markers = readMarkers(result.stderr);
  return {
    markers,
    failed: result.connectionFailed || (markers.end === undefined && markers.locked === undefined),
    stderr: result.stderr,
  };
}

/** Follows until the run ends; `first` is an attempt already made (the launch round trip streams too). */
export async function followRun(
  request: FollowRequest,
  first?: { failed: boolean; markers: ReturnType<typeof readMarkers>; stderr: string },
): Promise<RunEnd> {
  let last = first;
  const deadline = Date.now() + request.reconnectTimeoutMs;
  let attempt = 0;
  for (;;) {
    if (last && !last.failed && last.markers.end) return last.markers.end;
    if (request.signal?.aborted)
      throw new OffloadError("E_INTERRUPTED", "Stopped following the run.", {
        hint: `The run goes on; \`offload attach ${request.runId}\` picks it up again.`,
      });
    if (last) {
      attempt += 1;
      if (Date.now() > deadline) {
        throw new OffloadError(
          "E_DISCONNECTED",
          `Lost the connection to ${request.transport.label} and could not get it back within ${Math.round(request.reconnectTimeoutMs / 1000)} s.`,
          {
            hint: `The run goes on over there. When the host is reachable again, \`offload attach ${request.runId}\` resumes the log from byte ${request.sink.size}.`,
          },
        );
      }
      const delayMs = Math.min(500 * 2 ** (attempt - 1), 5000);
      const reason = last.stderr.trim().split("\n").at(-1) ?? "connection closed";
      request.report({ type: "reconnecting", attempt, delayMs, reason });
      await sleep(delayMs, request.signal);
      try {
        await request.transport.connect();
      } catch {
        last = { failed: true, markers: {}, stderr: "" };
        continue;
      }
      request.report({ type: "reconnected", attempt, offset: request.sink.size });
    }
    last = await streamOnce(
      request,
      buildFollowScript(request.remoteDir, request.runId, request.sink.size),
    );
  }
}
