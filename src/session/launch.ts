// The run protocol's launch round trip: check the remote dir's lock, start the job detached and stream
// its log in the same connection; a round trip that failed is settled by asking the host.
import type { JobLaunch, JobRef, JobStatus, LaunchIo, LaunchOutcome } from "../backends/types.js";
import { OffloadError } from "../errors.js";
import { buildLaunchScript } from "../remote/launch.js";
import { buildLaunchStatusScript, readLaunchStatus } from "../remote/launch-status.js";
import { readMarkers } from "../remote/markers.js";
import { reconnectDelayMs, sleep } from "../transport/backoff.js";
import type { Transport } from "../transport/types.js";
import { describeFailure, type FollowRequest, type StreamAttempt, streamOnce } from "./follow.js";
import type { HeldLaunch } from "./held-launch.js";
import { lockedError } from "./lock.js";

export interface LaunchRequest {
  transport: Transport;
  job: JobLaunch;
  io: LaunchIo;
  reconnectTimeoutSeconds: number;
  /** The run's prepare connection, where the host holds it for this launch (held-launch.ts). */
  held?: HeldLaunch | undefined;
}

function launchError(transport: Transport, stderr: string, failed: boolean): Error {
  const free = readMarkers(stderr).diskFreeKiB;
  if (free !== undefined)
    return new OffloadError(
      "E_DISK_FULL",
      `Could not start the run on ${transport.label}: no room to write its files in the remote dir (${free} KiB free).`,
      {
        hint: "Free space on that file system (`df -h` there shows it), or pick another remote dir.",
      },
    );
  if (failed && transport.kind === "ssh" && stderr.trim() !== "")
    return transport.explain({ code: 255, stdout: "", stderr, connectionFailed: true });
  return new OffloadError(
    "E_LAUNCH",
    `Could not start the run on ${transport.label}: ${stderr.trim() || "no reply"}`,
    {
      hint: "Check that the remote dir is writable and that `sh` works there: `offload check --host <host>`.",
    },
  );
}

/**
 * Starts the job and streams its log in the same round trip. Returns the outcome with that first stream
 * attempt, from which the follow goes on; a launch that started nothing is `not-started` with its error.
 */
export async function launchJob(
  request: LaunchRequest,
): Promise<{ outcome: LaunchOutcome; first: StreamAttempt }> {
  const { transport, job, io } = request;
  const { runId: id, remoteDir } = job.plan;
  const follow: FollowRequest = {
    transport,
    remoteDir,
    runId: id,
    sink: io.sink,
    samples: io.samples,
    report: io.report,
    reconnectTimeoutMs: request.reconnectTimeoutSeconds * 1000,
    signal: io.signal,
  };
  const script = buildLaunchScript(job.plan);
  // Down the held connection only where the host waits to run this very script; else it is let go.
  const held = request.held?.accepts(script) ? request.held : undefined;
  if (held === undefined) void request.held?.decline();
  const first = await streamOnce(
    follow,
    script,
    {
      stdin: job.stdin,
      onLaunched: (pid, realDir) =>
        io.onStarted({
          remote: { launcherPid: pid, ...(realDir === undefined ? {} : { realDir }) },
        }),
    },
    undefined,
    held,
  );
  let notStarted = false;
  const unsure = first.markers.launchedPid === undefined && first.markers.locked === undefined;
  if (first.connectionFailed && unsure) {
    // The connection failed mid-launch: the job may be running over there. Never forget it on a guess.
    const pid = await confirmLaunch(request, first.stderr);
    if (pid === undefined) notStarted = true;
    else {
      first.markers.launchedPid = pid;
      io.onStarted({ remote: { launcherPid: pid } });
    }
  }
  const { markers } = first;
  if (markers.locked !== undefined || markers.launchedPid === undefined) {
    const error =
      markers.locked !== undefined
        ? lockedError(transport, remoteDir, markers.locked, true)
        : notStarted
          ? new OffloadError(
              "E_LAUNCH",
              `The connection to ${transport.label} failed while starting the run; the host confirms that nothing was started.`,
              { hint: "Run the same command again once the connection is steady." },
            )
          : launchError(transport, first.stderr, first.failed);
    return { outcome: { kind: "not-started", error }, first };
  }
  return {
    outcome: {
      kind: "started",
      job: {
        remote: {
          launcherPid: markers.launchedPid,
          ...(markers.launchedDir === undefined ? {} : { realDir: markers.launchedDir }),
        },
      },
    },
    first,
  };
}

/**
 * Asks the host whether a launch whose round trip failed started the job, reconnecting with backoff for
 * the reconnect timeout. Returns the launcher's pid, or undefined where nothing started (the host then
 * freed the lock). Where the host stays unreachable the record is kept and the error says to attach.
 */
async function confirmLaunch(request: LaunchRequest, why: string): Promise<number | undefined> {
  const { transport } = request;
  const { report } = request.io;
  const { runId, remoteDir } = request.job.plan;
  const script = buildLaunchStatusScript(remoteDir, runId);
  const deadline = Date.now() + request.reconnectTimeoutSeconds * 1000;
  let reason = describeFailure({ stderr: why, connectionFailed: true });
  for (let attempt = 1; ; attempt++) {
    const delayMs = reconnectDelayMs(attempt);
    report({ type: "reconnecting", attempt, delayMs, reason });
    await sleep(delayMs);
    const result = await transport.exec(script);
    if (!result.connectionFailed) {
      const status = readLaunchStatus(result.stderr);
      if (status === "not-launched") return undefined;
      if (status !== undefined) return status.pid;
    }
    reason = describeFailure(result);
    if (Date.now() > deadline) {
      throw new OffloadError(
        "E_DISCONNECTED",
        `Lost the connection to ${transport.label} while starting run ${runId}, and could not get it back within ${request.reconnectTimeoutSeconds} s.`,
        {
          hint: `The run may have started. When the host is reachable again, \`offload attach ${runId}\` follows it or says that it never ran.`,
        },
      );
    }
  }
}

/** Whether the job of a launch that offload did not see end was started (the host freed the lock if not). */
export async function askLaunchStatus(transport: Transport, job: JobRef): Promise<JobStatus> {
  const result = await transport.exec(buildLaunchStatusScript(job.remoteDir, job.runId));
  if (result.connectionFailed) throw transport.explain(result);
  const status = readLaunchStatus(result.stderr);
  return typeof status === "object"
    ? { state: "started", job: { remote: { launcherPid: status.pid } } }
    : { state: "not-started" };
}
