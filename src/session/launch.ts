// The launch round trip: take the remote dir's lock, start the job detached and stream its log in the
// same connection; a refused or failed launch leaves no run record behind.
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import {
  buildLaunchScript,
  buildLaunchStatusScript,
  type LaunchPlan,
  readLaunchStatus,
} from "../remote/launch.js";
import { readMarkers } from "../remote/markers.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import type { Transport } from "../transport/types.js";
import { armStop, type RunControls } from "./complete.js";
import {
  describeFailure,
  type FollowRequest,
  reconnectDelayMs,
  type StreamAttempt,
  sleep,
  streamOnce,
} from "./follow.js";
import { lockedError } from "./lock.js";
import { elapsed } from "./prepare.js";

export interface LaunchRequest {
  transport: Transport;
  store: RunStore;
  record: RunRecord;
  plan: LaunchPlan;
  /** Secrets (if any) then spec.json: stdin, never a command line. */
  stdin: string;
  report: Reporter;
  reconnectTimeoutSeconds: number;
  graceSeconds: number;
  controls: RunControls;
  /** The job started (the launched marker, or a status check that found it). */
  onLaunched?: () => void;
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

export async function launchJob(request: LaunchRequest): Promise<StreamAttempt> {
  const { transport, store, record, report, graceSeconds } = request;
  const id = record.id;
  const remoteDir = record.target.remoteDir;
  const sink = store.openLog(id);
  const follow: FollowRequest = {
    transport,
    remoteDir,
    runId: id,
    sink,
    report,
    reconnectTimeoutMs: request.reconnectTimeoutSeconds * 1000,
    signal: request.controls.detach,
  };
  const launchStart = performance.now();
  const markLaunched = (pid: number) => {
    record.remote = { launcherPid: pid };
    record.phases.launch = elapsed(launchStart);
    request.onLaunched?.();
    report({ type: "launched", runId: id, remoteDir, ms: record.phases.launch });
  };
  let disarm = () => {};
  const first = await streamOnce(follow, buildLaunchScript(request.plan), {
    stdin: request.stdin,
    onLaunched: (pid) => {
      markLaunched(pid);
      // The launch round trip streams the log too: a Ctrl+C from here on stops the job.
      disarm = armStop({
        transport,
        record,
        report,
        graceSeconds,
        signal: request.controls.stop,
        leave: request.controls.detach,
      });
    },
  }).finally(() => {
    sink.close();
    disarm();
  });
  record.logBytes = sink.size;
  let notStarted = false;
  const unsure = first.markers.launchedPid === undefined && first.markers.locked === undefined;
  if (first.connectionFailed && unsure) {
    // The connection failed mid-launch: the job may be running over there. Never forget it on a guess.
    const pid = await confirmLaunch(request, first.stderr);
    if (pid === undefined) notStarted = true;
    else {
      first.markers.launchedPid = pid;
      markLaunched(pid);
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
    // Nothing ran: a record would only shadow the real latest run for `attach` and `stop`.
    await store.remove(id);
    throw error;
  }
  return first;
}

/**
 * Asks the host whether a launch whose round trip failed started the job, reconnecting with backoff for
 * the reconnect timeout. Returns the launcher's pid, or undefined where nothing started (the host then
 * freed the lock). Where the host stays unreachable the record is kept and the error says to attach.
 */
async function confirmLaunch(request: LaunchRequest, why: string): Promise<number | undefined> {
  const { transport, record, report } = request;
  const script = buildLaunchStatusScript(record.target.remoteDir, record.id);
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
        `Lost the connection to ${transport.label} while starting run ${record.id}, and could not get it back within ${request.reconnectTimeoutSeconds} s.`,
        {
          hint: `The run may have started. When the host is reachable again, \`offload attach ${record.id}\` follows it or says that it never ran.`,
        },
      );
    }
  }
}

/**
 * A record left `launching` (offload was killed between saving it and the host's launched marker):
 * asks the host whether the job started. Started: the record is `running` again and can be followed.
 * Not started: the host has freed the lock, the record says so (status `error`) and E_LAUNCH explains.
 */
export async function settleLaunching(
  transport: Transport,
  store: RunStore,
  record: RunRecord,
): Promise<void> {
  const result = await transport.exec(buildLaunchStatusScript(record.target.remoteDir, record.id));
  if (result.connectionFailed) throw transport.explain(result);
  const status = readLaunchStatus(result.stderr);
  if (typeof status === "object") {
    record.remote = { ...record.remote, launcherPid: status.pid };
    record.status = "running";
    await store.save(record);
    return;
  }
  const message = `Run ${record.id} never started: offload ended while launching it, and ${transport.label} confirms that nothing was started.`;
  record.status = "error";
  record.error = { code: "E_LAUNCH", message };
  record.finishedAt = new Date().toISOString();
  await store.save(record);
  throw new OffloadError("E_LAUNCH", message, { hint: "Run the command again." });
}
