// Streams a run's log into the local copy until the run has ended, reconnecting with backoff from the
// last byte received when the connection fails: nothing lost, nothing repeated.
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildFollowScript } from "../remote/follow.js";
import { MARK, RUN_ID_PATTERN } from "../remote/layout.js";
import type { LogSink } from "../runs/store.js";
import type { Transport } from "../transport/types.js";
import { requireRunId } from "./run-id.js";

/**
 * `diskFull`: the remote dir's file system had (next to) no space left when the run ended;
 * `displacedBy`: `run --force` of that run took the remote dir and stopped this one.
 */
export type RunEnd =
  | { kind: "exit"; code: number; diskFull?: boolean; displacedBy?: string }
  | { kind: "lost"; diskFull?: boolean }
  | { kind: "missing" };

/** Below this many KiB free, a failed run's file system counts as full. */
const DISK_FULL_KIB = 100;

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

export interface Markers {
  launchedPid?: number;
  end?: RunEnd;
  /** `<run id> <epoch seconds>` of the run that holds the lock. */
  locked?: string;
  reclaimed?: string;
  forced?: string;
  /** KiB free on the remote dir's file system, where a script said. */
  diskFreeKiB?: number;
  /** The run whose `--force` stopped this one. */
  displaced?: string;
}

/** Reads the markers the remote scripts print on stderr. */
export function readMarkers(stderr: string): Markers {
  const found: Markers = {};
  const after = (line: string, mark: string) =>
    line.startsWith(`${mark} `) ? line.slice(mark.length + 1).trim() : undefined;
  for (const line of stderr.split("\n")) {
    const launched = after(line, MARK.launched);
    if (launched !== undefined) found.launchedPid = Number(launched);
    for (const key of ["locked", "reclaimed", "forced", "displaced"] as const) {
      const text = after(line, MARK[key]);
      if (text !== undefined) found[key] = text;
    }
    const free = after(line, MARK.diskFree);
    if (free !== undefined && /^[0-9]+$/.test(free)) found.diskFreeKiB = Number(free);
    const value = after(line, MARK.exit);
    if (value === undefined) continue;
    if (/^[0-9]+$/.test(value)) found.end = { kind: "exit", code: Number(value) };
    else found.end = value === "missing" ? { kind: "missing" } : { kind: "lost" };
  }
  if (found.end?.kind === "exit" && found.displaced && RUN_ID_PATTERN.test(found.displaced))
    found.end.displacedBy = found.displaced;
  return found;
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

export interface StreamAttempt {
  markers: Markers;
  /** The stream ended without the run's end marker: the connection failed. */
  failed: boolean;
  /** ssh itself failed (not the script): the far side may have gone on without us. */
  connectionFailed?: boolean;
  stderr: string;
}

/** Runs one stream attempt, writing stdout to the sink as it comes. */
export async function streamOnce(
  request: FollowRequest,
  script: string,
  launch?: { stdin: string; onLaunched: (pid: number) => void },
): Promise<StreamAttempt> {
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
    connectionFailed: result.connectionFailed,
    stderr: result.stderr,
  };
}

function withDiskState(markers: Markers): RunEnd {
  const end = markers.end ?? { kind: "lost" };
  return isDiskFull(markers) && end.kind !== "missing" ? { ...end, diskFull: true } : end;
}

/** Whether the launch found no room to write the run's files (it then started nothing). */
export function isDiskFull(markers: Markers): boolean {
  return markers.diskFreeKiB !== undefined && markers.diskFreeKiB < DISK_FULL_KIB;
}

/** Backoff between reconnect attempts (1-based): 0.5 s, doubling, at most 5 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** (attempt - 1), 5000);
}

/** Follows until the run ends; `first` is an attempt already made (the launch round trip streams too). */
export async function followRun(
  request: FollowRequest,
  first?: { failed: boolean; markers: Markers; stderr: string },
): Promise<RunEnd> {
  requireRunId(request.runId);
  let last = first;
  const deadline = Date.now() + request.reconnectTimeoutMs;
  let attempt = 0;
  for (;;) {
    if (last && !last.failed && last.markers.end) return withDiskState(last.markers);
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
      const delayMs = reconnectDelayMs(attempt);
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
