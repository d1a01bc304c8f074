// The launch round trip: take the remote dir's lock, start the job detached and stream its log in the
// same connection; a refused or failed launch leaves no run record behind.
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildLaunchScript, type LaunchPlan } from "../remote/launch.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import type { Transport } from "../transport/types.js";
import { armStop, type RunControls } from "./complete.js";
import { type FollowRequest, type StreamAttempt, streamOnce } from "./follow.js";
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
}

function describeHolder(holder: string): string {
  const [id = "unknown", epoch] = holder.split(" ");
  const seconds = Number(epoch);
  return Number.isFinite(seconds) && seconds > 0
    ? `run ${id} (since ${new Date(seconds * 1000).toISOString()})`
    : `run ${id}`;
}

function launchError(transport: Transport, stderr: string, failed: boolean): Error {
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
  let disarm = () => {};
  const first = await streamOnce(follow, buildLaunchScript(request.plan), {
    stdin: request.stdin,
    onLaunched: (pid) => {
      record.remote = { launcherPid: pid };
      record.phases.launch = elapsed(launchStart);
      report({ type: "launched", runId: id, remoteDir, ms: record.phases.launch });
      // The launch round trip streams the log too: a Ctrl+C from here on stops the job.
      disarm = armStop({ transport, record, report, graceSeconds, signal: request.controls.stop });
    },
  }).finally(() => {
    sink.close();
    disarm();
  });
  record.logBytes = sink.size;
  const { markers } = first;
  if (markers.reclaimed)
    report({
      type: "notice",
      message: `reclaimed the remote dir's lock from ${describeHolder(markers.reclaimed)}, which is no longer running`,
    });
  if (markers.forced)
    report({
      type: "notice",
      message: `--force: stopped ${describeHolder(markers.forced)} and took over the remote dir`,
    });
  if (markers.locked !== undefined || markers.launchedPid === undefined) {
    const error =
      markers.locked !== undefined
        ? new OffloadError(
            "E_LOCKED",
            `${remoteDir} on ${transport.label} is in use by ${describeHolder(markers.locked)}.`,
            {
              hint: `Wait for it, follow it with \`offload attach ${markers.locked.split(" ")[0]}\`, or stop it and take over with \`offload run --force\`.`,
            },
          )
        : launchError(transport, first.stderr, first.failed);
    // Nothing ran: a record would only shadow the real latest run for `attach` and `stop`.
    await store.remove(id);
    throw error;
  }
  return first;
}
