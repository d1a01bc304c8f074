// `offload run` as a library call: connect, sync, launch detached, follow the log, download outputs,
// and keep the run record current at every step so nothing is lost when any of them fails.

import type { DownloadEntry, UploadEntry } from "../config/transfer-entries.js";
import { isOffloadError, OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildLaunchScript } from "../remote/launch.js";
import { buildPrepareScript, parsePrepareOutput } from "../remote/prepare.js";
import { readGitState } from "../runs/git.js";
import { createRunId } from "../runs/id.js";
import { type RunRecord, statusForExit } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import { downloadArtifacts } from "../sync/download.js";
import { planDownloads } from "../sync/download-plan.js";
import { expandUploadGlobs, uploadMapped } from "../sync/extra-uploads.js";
import { scanWorkspace } from "../sync/scan.js";
import { type SyncTool, uploadFiles } from "../sync/upload.js";
import type { Transport } from "../transport/types.js";
import { followRun, type RunEnd, streamOnce } from "./follow.js";

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
}

export interface RunRequest {
  transport: Transport;
  store: RunStore;
  projectDir: string;
  target: Omit<RunRecord["target"], "remoteDir">;
  command: string[];
  settings: RunSettings;
  report: Reporter;
  signal?: AbortSignal;
}

export interface PreparedTarget {
  remoteDir: string;
  home: string;
  tool: SyncTool;
}

/** Connects and resolves the remote dir in one round trip. */
export async function prepareTarget(
  transport: Transport,
  remoteDir: string,
  syncTool: RunSettings["syncTool"],
): Promise<PreparedTarget> {
  await transport.connect();
  const result = await transport.exec(buildPrepareScript(remoteDir));
  if (result.connectionFailed) throw transport.explain(result);
  const prepared = parsePrepareOutput(result.stdout);
  if (result.code !== 0 || prepared === undefined) {
    throw new OffloadError(
      "E_SYNC",
      `Could not create the remote dir ${remoteDir} on ${transport.label}: ${result.stderr.trim()}`,
      {
        hint: "Choose a writable location with `remote_dir:` in offload.yaml or `--host host/path`.",
      },
    );
  }
  const tool = syncTool === "auto" ? (prepared.rsync ? "rsync" : "tar") : syncTool;
  return { remoteDir: prepared.remoteDir, home: prepared.home, tool };
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

export async function runJob(request: RunRequest): Promise<RunRecord> {
  const { transport, store, settings, report } = request;
  const started = performance.now();
  const downloads = planDownloads(settings.download);

  report({ type: "connecting", target: transport.label });
  const prepared = await prepareTarget(transport, settings.remoteDir, settings.syncTool);
  const connectMs = elapsed(started);
  report({ type: "connected", target: transport.label, ms: connectMs });

  const syncStart = performance.now();
  const scan = await scanWorkspace(request.projectDir, settings.ignore);
  const extra = await expandUploadGlobs(request.projectDir, settings.upload);
  const files = [...new Set([...scan.files, ...extra])];
  report({ type: "syncing", files: files.length, bytes: scan.bytes });
  const sent = await uploadFiles({
    transport,
    root: request.projectDir,
    remoteDir: prepared.remoteDir,
    files,
    tool: prepared.tool,
  });
  await uploadMapped(
    transport,
    request.projectDir,
    prepared.remoteDir,
    prepared.home,
    settings.upload,
  );
  const syncMs = elapsed(syncStart);
  report({
    type: "synced",
    tool: sent.tool,
    scanned: files.length,
    transferred: sent.files,
    bytes: sent.bytes,
    ms: syncMs,
  });

  const id = createRunId();
  const record: RunRecord = {
    version: 1,
    id,
    command: request.command,
    target: { ...request.target, remoteDir: prepared.remoteDir },
    status: "running",
    exitCode: null,
    startedAt: new Date().toISOString(),
    phases: { connect: connectMs, sync: syncMs },
    sync: { tool: sent.tool, scanned: files.length, transferred: sent.files, bytes: sent.bytes },
    envNames: Object.keys(settings.env).sort(),
    artifacts: [],
    mappedFiles: [],
    logBytes: 0,
  };
  const git = await readGitState(request.projectDir);
  if (git) record.git = git;
  await store.save(record);

  const sink = store.openLog(id);
  const launchStart = performance.now();
  let end: RunEnd;
  try {
    const plan = {
      runId: id,
      remoteDir: prepared.remoteDir,
      command: request.command,
      env: settings.env,
      startup: settings.startup,
      shutdown: settings.shutdown,
    };
    const spec = JSON.stringify({
      id,
      command: request.command,
      envNames: record.envNames,
      git: record.git ?? null,
      target: request.target.label,
      createdAt: record.startedAt,
    });
    const follow = {
      transport,
      remoteDir: prepared.remoteDir,
      runId: id,
      sink,
      report,
      reconnectTimeoutMs: settings.reconnectTimeoutSeconds * 1000,
      signal: request.signal,
    };
    const first = await streamOnce(follow, buildLaunchScript(plan), {
      stdin: spec,
      onLaunched: (pid) => {
        record.remote = { launcherPid: pid };
        record.phases.launch = elapsed(launchStart);
        report({
          type: "launched",
          runId: id,
          remoteDir: prepared.remoteDir,
          ms: record.phases.launch,
        });
        void store.save(record);
      },
    });
    if (first.markers.locked !== undefined) {
      throw new OffloadError(
        "E_LOCKED",
        `${prepared.remoteDir} on ${transport.label} is in use by run ${first.markers.locked.split(" ")[0]} (since ${describeSince(first.markers.locked)}).`,
        {
          hint: "Wait for it, `offload attach` to it, or `offload run --force` to stop it and take over.",
        },
      );
    }
    if (first.markers.launchedPid === undefined) throw launchError(transport, first.stderr);
    end = await followRun(follow, first);
  } catch (error) {
    record.logBytes = sink.size;
    sink.close();
    record.status = isOffloadError(error) && error.code === "E_DISCONNECTED" ? "running" : "error";
    if (isOffloadError(error)) record.error = { code: error.code, message: error.message };
    await store.save(record);
    throw error;
  }
  record.logBytes = sink.size;
  sink.close();
  record.phases.run = elapsed(launchStart);
  return finishRun({
    ...request,
    record,
    end,
    downloads,
    remoteDir: prepared.remoteDir,
    tool: prepared.tool,
    started,
  });
}

function launchError(transport: Transport, stderr: string): Error {
  const failure = { code: 255, stdout: "", stderr, connectionFailed: true };
  if (transport.kind === "ssh" && stderr.trim() !== "") return transport.explain(failure);
  return new OffloadError(
    "E_LAUNCH",
    `Could not start the run on ${transport.label}: ${stderr.trim() || "no reply"}`,
    {
      hint: "Check that the remote dir is writable and that `sh` works there: `offload check --host <host>`.",
    },
  );
}

function describeSince(lock: string): string {
  const seconds = Number(lock.split(" ")[1]);
  return Number.isFinite(seconds) && seconds > 0
    ? new Date(seconds * 1000).toISOString()
    : "an unknown time";
}

interface FinishRequest extends RunRequest {
  record: RunRecord;
  end: RunEnd;
  downloads: ReturnType<typeof planDownloads>;
  remoteDir: string;
  tool: SyncTool;
  started: number;
}

/** Downloads outputs (also after a failed run: its logs and partial results matter most) and records the end. */
export async function finishRun(request: FinishRequest): Promise<RunRecord> {
  const { record, end, store, report, transport } = request;
  if (end.kind === "exit") {
    record.exitCode = end.code;
    record.status = statusForExit(end.code);
  } else {
    record.status = "lost";
  }
  record.finishedAt = new Date().toISOString();
  if (request.downloads.globs.length + request.downloads.mapped.length > 0) {
    const downloadStart = performance.now();
    report({ type: "downloading", rules: request.settings.download.length });
    try {
      const result = await downloadArtifacts({
        transport,
        remoteDir: request.remoteDir,
        plan: request.downloads,
        artifactsDir: store.artifactsDir(record.id),
        projectDir: request.projectDir,
        tool: request.tool,
      });
      record.artifacts = result.artifacts;
      record.mappedFiles = result.mappedFiles;
      record.phases.download = elapsed(downloadStart);
      report({
        type: "downloaded",
        files: result.artifacts.length,
        missing: result.missing,
        ms: record.phases.download,
      });
    } catch (error) {
      if (!isOffloadError(error)) throw error;
      record.error = { code: error.code, message: error.message };
      report({
        type: "notice",
        message: `${error.message}${error.hint ? ` (${error.hint})` : ""}`,
      });
    }
  }
  record.phases.total = elapsed(request.started);
  await store.save(record);
  report({
    type: "finished",
    runId: record.id,
    exitCode: record.exitCode,
    status: record.status,
    ms: record.phases.total,
  });
  return record;
}
