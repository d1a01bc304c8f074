// `offload run` as a library call: connect, sync, launch detached, follow the log, download outputs,
// keeping the run record current at every step so nothing is lost when any of them fails.
import type { DownloadEntry, UploadEntry } from "../config/transfer-entries.js";
import {
  buildSecretsReceiveLines,
  buildSecretsSourceLines,
  encodeSecretsFile,
} from "../env/secrets.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildLaunchScript } from "../remote/launch.js";
import { readGitState } from "../runs/git.js";
import { createRunId } from "../runs/id.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import { planDownloads } from "../sync/download-plan.js";
import type { SyncTool } from "../sync/upload.js";
import type { Transport } from "../transport/types.js";
import { armStop, completeRun, type RunControls } from "./complete.js";
import { chooseGpus, type PythonSettings, prepareEnvironment } from "./environment.js";
import { type FollowRequest, streamOnce } from "./follow.js";
import { elapsed, prepareTarget, probeHost, syncWorkspace } from "./prepare.js";
import { trackProgress } from "./progress.js";

export interface RunSettings {
  remoteDir: string;
  env: Record<string, string>;
  startup: string[];
  shutdown: string[];
  ignore: string[];
  upload: UploadEntry[];
  download: DownloadEntry[];
  syncTool: "auto" | SyncTool;
  reconnectTimeoutSeconds: number;
  graceSeconds: number;
  python: PythonSettings;
  rebuildEnv: boolean;
  gpus?: number | undefined;
  /** Values resolved locally (`--secret`); they reach the job through a 0600 file, nowhere else. */
  secrets: Record<string, string>;
}

export interface RunRequest {
  transport: Transport;
  store: RunStore;
  projectDir: string;
  target: Omit<RunRecord["target"], "remoteDir">;
  command: string[];
  settings: RunSettings;
  report: Reporter;
  /** Stop the run that holds the remote dir, then take it over. */
  force?: boolean;
  /** Return once the job has started; `attach` finishes it later. */
  noWait?: boolean;
  controls?: RunControls;
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

export async function runJob(request: RunRequest): Promise<RunRecord> {
  const { transport, store, settings } = request;
  const started = performance.now();
  const id = createRunId();
  const report = trackProgress(request.report, store.runDir(id));
  planDownloads(settings.download); // refuse bad rules before anything moves

  report({ type: "connecting", target: transport.label });
  const prepared = await prepareTarget(transport, settings.remoteDir, settings.syncTool);
  const connectMs = elapsed(started);
  report({ type: "connected", target: transport.label, ms: connectMs });
  // The host probe runs beside the sync: facts for the record (and the GPU pick) at no extra wait.
  const probing = probeHost(transport, prepared.remoteDir);
  const synced = await syncWorkspace({
    transport,
    projectDir: request.projectDir,
    prepared,
    ignore: settings.ignore,
    upload: settings.upload,
    report,
  });
  const facts = await probing;
  const gpus = chooseGpus(settings.gpus, facts, transport.label);
  const environment = await prepareEnvironment({
    transport,
    projectDir: request.projectDir,
    remoteDir: prepared.remoteDir,
    python: settings.python,
    rebuild: settings.rebuildEnv,
    report,
  });

  const record: RunRecord = {
    version: 1,
    id,
    command: request.command,
    target: { ...request.target, remoteDir: prepared.remoteDir },
    status: "running",
    exitCode: null,
    startedAt: new Date().toISOString(),
    phases: { connect: connectMs, sync: synced.ms },
    sync: {
      tool: synced.tool,
      scanned: synced.scanned,
      transferred: synced.transferred,
      bytes: synced.bytes,
    },
    envNames: Object.keys(settings.env).sort(),
    download: settings.download,
    artifacts: [],
    mappedFiles: [],
    logBytes: 0,
  };
  if (facts) record.host = facts;
  if (environment.envDir !== undefined && environment.status !== undefined) {
    record.phases.env = environment.ms;
    record.environment = { dir: environment.envDir, status: environment.status };
  }
  if (settings.gpus !== undefined) record.gpus = gpus.gpus;
  const secretNames = Object.keys(settings.secrets).sort();
  if (secretNames.length > 0) record.secretNames = secretNames;
  const secretsText = secretNames.length > 0 ? encodeSecretsFile(settings.secrets) : "";
  const git = await readGitState(request.projectDir);
  if (git) record.git = git;
  await store.save(record);

  const plan = {
    runId: id,
    remoteDir: prepared.remoteDir,
    command: request.command,
    env: { ...settings.env, ...gpus.env },
    startup: settings.startup,
    shutdown: settings.shutdown,
    force: request.force ?? false,
    graceSeconds: settings.graceSeconds,
    follow: !request.noWait,
    receiveLines: buildSecretsReceiveLines("R", Buffer.byteLength(secretsText)),
    setupLines: [
      ...environment.activate,
      ...(secretsText === "" ? [] : buildSecretsSourceLines("R")),
    ],
  };
  const spec = JSON.stringify({
    id,
    command: request.command,
    envNames: record.envNames,
    git: record.git ?? null,
    target: request.target.label,
    createdAt: record.startedAt,
  });
  const sink = store.openLog(id);
  const follow: FollowRequest = {
    transport,
    remoteDir: prepared.remoteDir,
    runId: id,
    sink,
    report,
    reconnectTimeoutMs: settings.reconnectTimeoutSeconds * 1000,
    signal: request.controls?.detach,
  };
  const launchStart = performance.now();
  let disarm = () => {};
  const first = await streamOnce(follow, buildLaunchScript(plan), {
    // Secrets travel on stdin ahead of spec.json, never in a command line.
    stdin: secretsText + spec,
    onLaunched: (pid) => {
      record.remote = { launcherPid: pid };
      record.phases.launch = elapsed(launchStart);
      report({
        type: "launched",
        runId: id,
        remoteDir: prepared.remoteDir,
        ms: record.phases.launch,
      });
      // The launch round trip streams the log too: a Ctrl+C from here on stops the job.
      disarm = armStop({
        transport,
        record,
        report,
        graceSeconds: settings.graceSeconds,
        signal: request.controls?.stop,
      });
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
            `${prepared.remoteDir} on ${transport.label} is in use by ${describeHolder(markers.locked)}.`,
            {
              hint: `Wait for it, follow it with \`offload attach ${markers.locked.split(" ")[0]}\`, or stop it and take over with \`offload run --force\`.`,
            },
          )
        : launchError(transport, first.stderr, first.failed);
    // Nothing ran: a record would only shadow the real latest run for `attach` and `stop`.
    await store.remove(id);
    throw error;
  }
  record.phases.run = elapsed(launchStart) - (record.phases.launch ?? 0);
  await store.save(record);
  if (request.noWait) return record;
  return completeRun({
    transport,
    store,
    record,
    projectDir: request.projectDir,
    tool: prepared.tool,
    report,
    reconnectTimeoutSeconds: settings.reconnectTimeoutSeconds,
    graceSeconds: settings.graceSeconds,
    controls: request.controls ?? {},
    started,
    first,
  });
}
