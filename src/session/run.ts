// `offload run` as a library call: connect, sync, launch detached, follow the log, download outputs,
// keeping the run record current at every step so nothing is lost when any of them fails.
import type { JobLaunch } from "../backends/types.js";
import { msSince, type RunContext } from "../context.js";
import { isOffloadError } from "../errors.js";
import type { LaunchPlan } from "../remote/launch.js";
import { STDIN_END } from "../remote/layout.js";
import { DEFAULT_SAMPLE_SECONDS } from "../remote/sampler.js";
import {
  buildSecretsReceiveLines,
  buildSecretsSourceLines,
  encodeSecretsFile,
} from "../remote/secrets.js";
import { readGitState } from "../runs/git.js";
import { createRunId } from "../runs/id.js";
import type { RunRecord } from "../runs/record.js";
import { createRecordWriter, type RecordWriter } from "../runs/record-writer.js";
import { planDownloads } from "../sync/download-plan.js";
import { manifestPath } from "../sync/mirror.js";
import { readSyncState, syncStatePath } from "../sync/sync-state.js";
import { HostLost, runAttempts } from "./attempts.js";
import { checkBucketAccess, fetchRunInputs } from "./bucket.js";
import { checkRequirementsFile, chooseGpus, prepareEnvironment } from "./environment.js";
import { readHostFacts } from "./host-facts.js";
import { keepLock, releaseLock } from "./lock.js";
import type { NodeHooks } from "./nodes.js";
import {
  type PreparedTarget,
  type ProjectScan,
  prepareTarget,
  type SyncRequest,
  scanProject,
  syncWorkspace,
} from "./prepare.js";
import { trackProgress } from "./progress.js";

/** What `run` adds to the context: the command and what only the command line gives. */
export interface RunRequest {
  command: string[];
  /** `run --name` and `--tag`, recorded as given. */
  name?: string;
  tags?: Record<string, string>;
  /** Folder of the project the command runs in, relative and `/`-separated ("" or absent: the root). */
  workdir?: string;
  /** Stop the run that holds the remote dir, then take it over. */
  force?: boolean;
  /** Return once the job has started; `attach` finishes it later. */
  noWait?: boolean;
  /** Values resolved locally (`--secret`); they reach the job through a 0600 file, nowhere else. */
  secrets?: Record<string, string>;
  /** `--rebuild-env`: build the Python env afresh. */
  rebuildEnv?: boolean;
  /** One node of a job across several hosts (session/nodes.ts): its place and its barriers. */
  node?: NodeHooks;
}

/** Acquires the run's host (an existing one: as it is), runs there, and gives the host back. */
export async function runJob(context: RunContext, request: RunRequest): Promise<RunRecord> {
  const { settings } = context;
  const id = createRunId();
  planDownloads(settings.download); // refuse bad rules before anything moves
  context.backend.checkRun({
    secretNames: Object.keys(request.secrets ?? {}),
    retries: settings.retry?.attempts ?? 1,
  });
  // Keys are read before connecting: a run whose bucket has none changes nothing anywhere.
  const results = settings.buckets ? checkBucketAccess(settings.buckets, id) : undefined;
  checkRequirementsFile(context.projectDir, settings.python);
  // A host lost mid-run is given back and the next attempt goes to a fresh one, where it can be.
  let resumed: HostLost | undefined;
  for (;;) {
    const host = await context.hosts.acquire(context, { noWait: request.noWait ?? false });
    try {
      const fresh = { freshOnLoss: host.freshOnLoss ?? false, resumed };
      return await runOnHost(host.context, request, { id, results, ...fresh });
    } catch (error) {
      if (!(error instanceof HostLost)) throw error;
      resumed = error;
    } finally {
      await host.release();
    }
  }
}

interface HostRun {
  id: string;
  results: RunRecord["results"];
  freshOnLoss: boolean;
  /** The run so far, when an attempt lost its last host. */
  resumed: HostLost | undefined;
}

/** On the acquired host: connect and lock, then the locked phases; a run that launched nothing frees the lock. */
async function runOnHost(
  context: RunContext,
  request: RunRequest,
  { id, results, freshOnLoss, resumed }: HostRun,
): Promise<RunRecord> {
  const { transport, store, settings, clock } = context;
  const started = clock.now();
  const run: RunContext = {
    ...context,
    report: trackProgress(context.report, store.runDir(id), {
      patterns: settings.progressPatterns ?? [],
    }),
  };
  const { scanning, gitState, prepared, statePath } = await connect(run, request, id);
  const lock = { launched: false, stopBeating: keepLock(transport, prepared.remoteDir, id) };
  try {
    return await runLocked(run, request, {
      id,
      started,
      scanning,
      gitState,
      prepared,
      lock,
      results,
      syncState: { runId: id, path: statePath },
      freshOnLoss,
      resumed,
    });
  } catch (error) {
    // Nothing launched (a failed launch says so): free the remote dir for the next run. Not after a
    // connection lost mid-launch, where the job may be starting over there.
    const unsure = isOffloadError(error) && error.code === "E_DISCONNECTED";
    if (!lock.launched && !unsure) await releaseLock(transport, prepared.remoteDir, id);
    throw error;
  } finally {
    lock.stopBeating();
  }
}

/**
 * Connects and takes the remote dir's lock in one round trip (a refused run has changed nothing over
 * there). Local work (the workspace scan, starting `git status`) runs while the round trip is under
 * way; ssh is spawned first, since each spawn blocks this thread for 10-25 ms (measured).
 */
async function connect(context: RunContext, request: RunRequest, id: string) {
  const { transport, settings, report, target } = context;
  report({ type: "connecting", target: transport.label });
  // What the last sync there sent: the host proves it unchanged in this round trip, or the sync runs.
  const statePath = syncStatePath(
    context.projectDir,
    [target.kind, target.user, target.host, target.port].join(":"),
    settings.remoteDir,
  );
  const previous = readSyncState(statePath);
  const preparing = prepareTarget(
    transport,
    settings.remoteDir,
    settings.syncTool,
    { runId: id, force: request.force ?? false, graceSeconds: settings.graceSeconds, report },
    { proof: previous },
  );
  preparing.catch(() => {}); // awaited below: a failure must not count as unhandled meanwhile
  const scanning = scanProject(context.projectDir, settings.ignore, settings.upload, previous);
  scanning.catch(() => {});
  const gitState = readGitState(context.projectDir);
  return { scanning, gitState, statePath, prepared: await preparing };
}

interface Started {
  id: string;
  started: number;
  scanning: Promise<ProjectScan>;
  gitState: ReturnType<typeof readGitState>;
  prepared: PreparedTarget;
  /** Once launched, no release; the heartbeat stops where the started job keeps the lock alive itself. */
  lock: { launched: boolean; stopBeating: () => void };
  results: RunRecord["results"];
  syncState: SyncRequest["state"];
  freshOnLoss: boolean;
  resumed: HostLost | undefined;
}

/** What the host is ready with once the workspace is synced: the sync, the GPUs, the env, the inputs. */
interface ReadyHost {
  synced: Awaited<ReturnType<typeof syncWorkspace>>;
  facts: Awaited<ReturnType<typeof readHostFacts>>;
  gpus: ReturnType<typeof chooseGpus>;
  environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  inputs: RunRecord["inputs"];
}

/** The run once it holds the remote dir's lock: sync, environment, launch, then follow it through. */
async function runLocked(
  context: RunContext,
  request: RunRequest,
  state: Started,
): Promise<RunRecord> {
  const { transport, report, clock } = context;
  const scan = await state.scanning;
  // Every node holds its lock before any node's bytes change: one refused node refuses the whole job.
  await request.node?.locked(transport);
  const connectMs = msSince(clock, state.started);
  report({ type: "connected", target: transport.label, ms: connectMs });
  const host = await readyHost(context, request, state, scan);
  // The torchrun contract needs every node's address: known once all are synced and ready.
  const contract = (await request.node?.ready()) ?? {};
  const record = buildRecord(context, request, state, host, connectMs);
  // From here the record has one owner: every change made beside another phase, and every save.
  const writer = createRecordWriter(context.store, record);
  const described = describeHostLater(context, writer, host.facts);
  const secrets = request.secrets ?? {};
  const secretsText = record.secretNames ? encodeSecretsFile(secrets) : "";
  const git = await state.gitState;
  await writer.update(git ? { git } : {});
  const job = planLaunch(context, request, record, {
    env: { ...host.gpus.env, ...contract },
    activate: host.environment.activate,
    secretsText,
  });
  await described;
  return launchAndFollow(context, request, state, writer, job);
}

/**
 * Syncs the workspace, picks the GPUs from a probe made beside the sync, builds the Python env and
 * fetches the inputs: the host as the job needs it.
 */
async function readyHost(
  context: RunContext,
  request: RunRequest,
  state: Started,
  scan: ProjectScan,
): Promise<ReadyHost> {
  const { transport, settings, report, target } = context;
  const { prepared } = state;
  // A GPU pick needs the GPUs as they are now, before the launch: a fresh probe beside the sync.
  const picking =
    settings.gpus === undefined
      ? undefined
      : readHostFacts(transport, prepared.remoteDir, { fresh: true });
  const synced = await syncWorkspace({
    transport,
    projectDir: context.projectDir,
    prepared,
    scan,
    upload: settings.upload,
    report,
    state: state.syncState,
    manifest: manifestPath(
      context.projectDir,
      [target.kind, target.user, target.host, target.port].join(":"),
      prepared.remoteDir,
    ),
  });
  const facts = await picking;
  const gpus = chooseGpus(settings.gpus, facts, transport.label);
  const environment = await prepareEnvironment({
    transport,
    projectDir: context.projectDir,
    remoteDir: prepared.remoteDir,
    python: settings.python,
    rebuild: request.rebuildEnv ?? false,
    report,
  });
  // Inputs land in the remote dir before the job can read them; a failed fetch starts nothing.
  const inputs =
    settings.buckets && settings.buckets.inputs.length > 0
      ? await fetchRunInputs(transport, prepared.remoteDir, settings.buckets, report)
      : undefined;
  return { synced, facts, gpus, environment, inputs };
}

/** The run's record as it is saved before the launch (`launching`). */
function buildRecord(
  context: RunContext,
  request: RunRequest,
  state: Started,
  host: ReadyHost,
  connectMs: number,
): RunRecord {
  const { settings, clock, target } = context;
  const { synced, facts, gpus, environment, inputs } = host;
  const secretNames = Object.keys(request.secrets ?? {}).sort();
  const built = environment.envDir !== undefined && environment.status !== undefined;
  return {
    version: 1,
    id: state.id,
    command: request.command,
    target: { ...target, remoteDir: state.prepared.remoteDir },
    status: "launching",
    exitCode: null,
    startedAt: clock.date().toISOString(),
    phases: { connect: connectMs, sync: synced.ms, ...(built ? { env: environment.ms } : {}) },
    sync: {
      tool: synced.tool,
      scanned: synced.scanned,
      transferred: synced.transferred,
      bytes: synced.bytes,
      ...(synced.removed > 0 ? { removed: synced.removed } : {}),
    },
    envNames: Object.keys(settings.env).sort(),
    download: settings.download,
    artifacts: [],
    mappedFiles: [],
    logBytes: 0,
    ...(request.workdir ? { workdir: request.workdir } : {}),
    ...(state.results ? { results: state.results } : {}),
    ...(inputs ? { inputs } : {}),
    ...(request.name !== undefined ? { name: request.name } : {}),
    ...(request.tags !== undefined && Object.keys(request.tags).length > 0
      ? { tags: request.tags }
      : {}),
    ...(request.node ? { group: request.node.group } : {}),
    ...(facts ? { host: facts } : {}),
    ...(state.resumed ? carriedOver(state.resumed.record) : {}),
    ...(environment.envDir !== undefined && environment.status !== undefined
      ? { environment: { dir: environment.envDir, status: environment.status } }
      : {}),
    ...(settings.gpus !== undefined ? { gpus: gpus.gpus } : {}),
    ...(secretNames.length > 0 ? { secretNames } : {}),
  };
}

/**
 * Without a fresh probe, the record's facts are a recent probe's, or come from a probe that starts
 * after the sync (never slowing the upload: on the test bed, where both share two cores, it cost a
 * first sync 20%) and ends during the run.
 */
function describeHostLater(
  context: RunContext,
  writer: RecordWriter,
  facts: ReadyHost["facts"],
): Promise<void> {
  if (facts) return Promise.resolve();
  return readHostFacts(context.transport, writer.record.target.remoteDir, { fresh: false })
    .then((found) => (found ? writer.update({ host: found }) : undefined))
    .catch(() => {});
}

/** What the backend launches: the plan, and the bytes for its stdin (the secrets file, spec.json). */
function planLaunch(
  context: RunContext,
  request: RunRequest,
  record: RunRecord,
  parts: { env: Record<string, string>; activate: readonly string[]; secretsText: string },
): JobLaunch {
  const { settings, target } = context;
  const { secretsText } = parts;
  const plan: LaunchPlan = {
    runId: record.id,
    remoteDir: record.target.remoteDir,
    command: request.command,
    env: { ...settings.env, ...parts.env },
    startup: settings.startup,
    shutdown: settings.shutdown,
    graceSeconds: settings.graceSeconds,
    follow: !request.noWait,
    sampleSeconds: settings.sampleSeconds ?? DEFAULT_SAMPLE_SECONDS,
    workdir: request.workdir ?? "",
    receiveLines: buildSecretsReceiveLines("R", Buffer.byteLength(secretsText)),
    setupLines: [...parts.activate, ...(secretsText === "" ? [] : buildSecretsSourceLines("R"))],
  };
  const spec = JSON.stringify({
    id: record.id,
    command: request.command,
    envNames: record.envNames,
    git: record.git ?? null,
    target: target.label,
    createdAt: record.startedAt,
  });
  return { plan, stdin: `${secretsText}${spec}\n${STDIN_END}\n` };
}

/** Launches the job through the backend and follows it to its end (retrying as `retry:` says). */
function launchAndFollow(
  context: RunContext,
  request: RunRequest,
  state: Started,
  writer: RecordWriter,
  job: JobLaunch,
): Promise<RunRecord> {
  const { settings } = context;
  const { lock } = state;
  return runAttempts({
    context,
    transport: context.transport,
    store: context.store,
    writer,
    plan: job.plan,
    stdin: job.stdin,
    report: context.report,
    projectDir: context.projectDir,
    tool: state.prepared.tool,
    reconnectTimeoutSeconds: settings.reconnectTimeoutSeconds,
    graceSeconds: settings.graceSeconds,
    controls: context.controls,
    started: state.started,
    noWait: request.noWait ?? false,
    // One node of a multi-host job is not retried alone: its peers' rendezvous has gone.
    retry:
      request.node || !settings.retry ? { attempts: 1, on: [], backoffSeconds: 0 } : settings.retry,
    resultsEvery: settings.buckets?.results?.every,
    onLaunched: () => {
      lock.launched = true;
      // A job that may wait in a queue first (Slurm) has offload beat for it while it follows.
      if (context.backend.startedJobKeepsLock) lock.stopBeating();
    },
    firstAttempt: state.resumed?.nextAttempt ?? 1,
    freshHostOnLoss: state.freshOnLoss,
  });
}

/** What a run resumed on a fresh host keeps of its lost one: its attempts, checkpoints and cost. */
function carriedOver(before: RunRecord): Partial<RunRecord> {
  const kept: Partial<RunRecord> = { startedAt: before.startedAt };
  for (const key of ["attempts", "results", "checkpoint", "machine"] as const) {
    if (before[key] !== undefined) Object.assign(kept, { [key]: before[key] });
  }
  return kept;
}
