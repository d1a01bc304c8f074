// Streams a run's log into the local copy until the run has ended, reconnecting with backoff from the
// last byte received when the connection fails: nothing lost, nothing repeated.
import { LEFT_BY, type LogWriter, type RunEnd } from "../backends/types.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildFollowScript } from "../remote/follow.js";
import { type HostTimes, isMarkerLine, type Markers, readMarkers } from "../remote/markers.js";
import { createSampleSplitter, dropSampleLines } from "../remote/samples.js";
import { reconnectDelayMs, sleep } from "../transport/backoff.js";
import type { Transport } from "../transport/types.js";
import { readAppends } from "./follow-file.js";
import type { HeldLaunch } from "./held-launch.js";
import { requireRunId } from "./run-id.js";

/** Below this many KiB free, a failed run's file system counts as full. */
const DISK_FULL_KIB = 100;

export type { HostTimes };

export interface FollowRequest {
  transport: Transport;
  remoteDir: string;
  runId: string;
  sink: LogWriter;
  /** Where the run's machine samples go (machine.txt); absent: the follow does not ask for them. */
  samples?: LogWriter | undefined;
  report: Reporter;
  /** How long to keep retrying a failed connection before giving up. */
  reconnectTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface StreamAttempt {
  markers: Markers;
  /** The stream ended without the run's end marker: the connection failed. */
  failed: boolean;
  /** ssh itself failed (not the script): the far side may have gone on without us. */
  connectionFailed?: boolean;
  stderr: string;
  /** The exit status of the round trip (255: ssh). */
  code?: number;
}

/** What a person reads about a failed stream attempt: ssh's own words, never our markers, never "()". */
export function describeFailure(attempt: {
  stderr: string;
  code?: number | undefined;
  connectionFailed?: boolean | undefined;
}): string {
  const said = attempt.stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !isMarkerLine(line))
    .at(-1);
  const status = attempt.code === undefined ? "" : ` (status ${attempt.code})`;
  if (attempt.connectionFailed || attempt.code === 255)
    return said ?? `the ssh connection ended without a message${status}`;
  return said === undefined
    ? `the log stream ended before the run did${status}`
    : `the log stream ended before the run did: ${said}`;
}

/** Runs one stream attempt, writing stdout to the sink as it comes. */
export async function streamOnce(
  request: FollowRequest,
  script: string,
  launch?: { stdin: string; onLaunched: (pid: number, realDir?: string) => void },
  onFollowing?: () => void,
  /** A launch goes down the run's held prepare connection instead of a new one (held-launch.ts). */
  held?: HeldLaunch,
): Promise<StreamAttempt> {
  const { transport, sink, report } = request;
  // Sample lines come on stderr beside the markers: they go to their file, the rest is read as before.
  const stderr = createSampleSplitter((line) => request.samples?.write(Buffer.from(line)));
  const watchStderr = launch !== undefined || onFollowing !== undefined;
  // Where the host's stdout is known clean, ssh appends the log to the file itself (follow-file.ts);
  // a launch down the held prepare connection has that connection's pipe as its stdout, so it hands
  // the log off to a stream of its own (followRun) once the job outlives the launch's short wait.
  const viaHeld = held !== undefined && launch !== undefined;
  const canAppend = transport.cleanStdout === true && sink.direct !== undefined;
  const direct = !viaHeld && canAppend ? sink.direct : undefined;
  const output = (chunk: Buffer) => report({ type: "output", data: chunk });
  const appends = direct && readAppends(sink, direct, output);
  if (process.env.OFFLOAD_TRACE)
    performance.mark(`stream ${viaHeld ? "held" : direct ? "direct" : "piped"}`);
  const options = {
    onStderr: (chunk: Buffer) => {
      const before = watchStderr ? readMarkers(stderr.rest) : undefined;
      stderr.push(chunk.toString("utf8"));
      if (before === undefined) return;
      const now = readMarkers(stderr.rest);
      if (launch && before.launchedPid === undefined && now.launchedPid !== undefined)
        launch.onLaunched(now.launchedPid, now.launchedDir);
      if (onFollowing && !before.following && now.following) onFollowing();
    },
    ...(request.signal ? { signal: request.signal } : {}),
  };
  const piped = {
    ...options,
    onStdout: (chunk: Buffer) => {
      sink.write(chunk);
      output(chunk);
    },
  };
  const result = await (held && launch
    ? held.run(launch.stdin, piped, canAppend)
    : transport.exec(script, {
        ...(launch === undefined ? {} : { stdin: launch.stdin }),
        ...(direct ? { ...options, stdoutFd: direct.fd } : piped),
      })
  ).finally(() => appends?.stop());
  // ssh has ended: what it appended last is in the file now.
  appends?.drain();
  const said = dropSampleLines(result.stderr);
  const markers = readMarkers(said);
  return {
    markers,
    failed:
      result.connectionFailed ||
      (markers.end === undefined && markers.locked === undefined && !markers.handedOff),
    connectionFailed: result.connectionFailed,
    stderr: said,
    code: result.code,
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

/** The error for a follow that was left on purpose; the run goes on over there. */
function leftError(request: FollowRequest): OffloadError {
  const id = request.runId;
  if (request.signal?.reason === LEFT_BY.outputClosed)
    return new OffloadError(
      "E_OUTPUT_CLOSED",
      `Standard output was closed: stopped following run ${id}, which keeps running on ${request.transport.label}.`,
      {
        hint: `\`offload attach ${id}\` follows it again, \`offload logs ${id}\` prints its log, \`offload stop ${id}\` stops it.`,
      },
    );
  return new OffloadError(
    "E_INTERRUPTED",
    `Stopped following run ${id}; it keeps running on ${request.transport.label}.`,
    {
      hint: `\`offload attach ${id}\` follows it again; \`offload stop ${id}\` stops it.`,
    },
  );
}

/**
 * Follows until the run ends; `first` is an attempt already made (the launch round trip streams too).
 * An outage is the failures since the host was last reached: each gets its own reconnect timeout and
 * its attempts count from 1, so a drop after hours of streaming gets the same patience as the first.
 */
export async function followRun(
  request: FollowRequest,
  first?: StreamAttempt,
): Promise<RunEnd & { times?: HostTimes }> {
  requireRunId(request.runId);
  let last = first;
  let outage: { attempt: number; deadline: number } | undefined;
  for (;;) {
    if (last && !last.failed && last.markers.end) {
      const end = withDiskState(last.markers);
      const { times } = last.markers;
      return times ? { ...end, times } : end;
    }
    if (request.signal?.aborted) throw leftError(request);
    if (last && !last.failed && last.markers.handedOff) {
      // The held launch left the log to this stream: no outage, nothing to wait for.
      last = await streamOnce(
        request,
        buildFollowScript(
          request.remoteDir,
          request.runId,
          request.sink.size,
          request.samples?.size,
        ),
      );
      continue;
    }
    if (last) {
      // A stream that had reached the host and then lost the connection ends the outage before it.
      // One that failed without a connection failure (the script) counts on, so it cannot loop forever.
      const reached = last.markers.following === true || last.markers.launchedPid !== undefined;
      if (reached && (last.connectionFailed || last.code === 255)) outage = undefined;
      outage ??= { attempt: 0, deadline: Date.now() + request.reconnectTimeoutMs };
      outage.attempt += 1;
      if (Date.now() > outage.deadline) {
        throw new OffloadError(
          "E_DISCONNECTED",
          `Lost the connection to ${request.transport.label} and could not get it back within ${Math.round(request.reconnectTimeoutMs / 1000)} s.`,
          {
            hint: `The run goes on over there. When the host is reachable again, \`offload attach ${request.runId}\` resumes the log from byte ${request.sink.size}.`,
          },
        );
      }
      const { attempt } = outage;
      const delayMs = reconnectDelayMs(attempt);
      request.report({ type: "reconnecting", attempt, delayMs, reason: describeFailure(last) });
      await sleep(delayMs, request.signal);
      if (request.signal?.aborted) throw leftError(request);
      try {
        await request.transport.connect(request.signal);
      } catch (error) {
        const said = error instanceof Error ? error.message : String(error);
        last = { failed: true, markers: {}, stderr: said, connectionFailed: true };
        continue;
      }
      const offset = request.sink.size;
      last = await streamOnce(
        request,
        buildFollowScript(request.remoteDir, request.runId, offset, request.samples?.size),
        undefined,
        () => request.report({ type: "reconnected", attempt, offset }),
      );
      continue;
    }
    last = await streamOnce(
      request,
      buildFollowScript(request.remoteDir, request.runId, request.sink.size, request.samples?.size),
    );
  }
}
