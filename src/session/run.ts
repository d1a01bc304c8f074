// `offload run` as a library call: acquire the host, connect and take the remote dir's lock, then the
// locked phases (run-locked.ts); the record is kept current at every step so nothing is lost when any
// of them fails.
import type { RunContext } from "../context.js";
import { isOffloadError } from "../errors.js";
import { readGitState } from "../runs/git.js";
import { createRunId } from "../runs/new-id.js";
import type { RunRecord } from "../runs/record.js";
import { amendRecord } from "../runs/record-writer.js";
import { planDownloads } from "../sync/download-plan.js";
import { readSyncState, syncStatePath } from "../sync/sync-state.js";
import { HostLost } from "./attempts.js";
import { checkBucketAccess } from "./bucket.js";
import { checkRequirementsFile } from "./environment.js";
import { keepLock, releaseLock } from "./lock.js";
import { holdsLaunches, planHeldLaunch } from "./plan-launch.js";
import { prepareTarget } from "./prepare.js";
import { trackProgress } from "./progress.js";
import { scanProject } from "./project-scan.js";
import { RunProtocolBackend } from "./protocol-backend.js";
import { runLocked } from "./run-locked.js";
import type { RunRequest } from "./run-request.js";

export type { RunRequest } from "./run-request.js";

/** Acquires the run's host (an existing one: as it is), runs there, and gives the host back. */
export async function runJob(context: RunContext, request: RunRequest): Promise<RunRecord> {
  const { settings } = context;
  const id = request.node?.runId ?? createRunId();
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
    const host = await context.hosts
      .acquire(context, { noWait: request.noWait ?? false, runId: id })
      .catch(async (error: unknown) => {
        if (resumed !== undefined) await endUnhosted(context, id, error);
        throw error;
      });
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

/**
 * The next attempt got no host (a Ctrl+C while its fresh machine was made, the cloud refusing): the
 * record, left `launching` for that attempt, ends here, stopped or in error, its earlier attempts kept.
 */
async function endUnhosted(context: RunContext, id: string, error: unknown): Promise<void> {
  const interrupted = isOffloadError(error) && error.code === "E_INTERRUPTED";
  const finishedAt = new Date().toISOString();
  await amendRecord(context.store, id, () =>
    interrupted
      ? { status: "stopped", finishedAt }
      : {
          status: "error",
          finishedAt,
          error: {
            code: isOffloadError(error) ? error.code : "E_LAUNCH",
            message: error instanceof Error ? error.message : String(error),
          },
        },
  ).catch(() => undefined);
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
  if (prepared.held && context.backend instanceof RunProtocolBackend)
    context.backend.holdLaunch(id, prepared.held);
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
    await prepared.held?.decline();
    if (!lock.launched && !unsure) await releaseLock(transport, prepared.remoteDir, id);
    throw error;
  } finally {
    lock.stopBeating();
    // A held connection the launch did not use ends here (a no-op where it launched).
    await prepared.held?.decline();
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
  // Where the host may prove the sync unnecessary, the launch can go down this same connection.
  const held = previous && planHeldLaunch(context, request, id, previous.remoteDir);
  const preparing = prepareTarget(
    transport,
    settings.remoteDir,
    settings.syncTool,
    { runId: id, force: request.force ?? false, graceSeconds: settings.graceSeconds, report },
    // A node of a job across hosts holds its prepare for its upload and launch: one ssh a node.
    { proof: previous, held, nodeHold: request.node !== undefined && holdsLaunches(context) },
  );
  preparing.catch(() => {}); // awaited below: a failure must not count as unhandled meanwhile
  // A node of a job across hosts lists the workspace and reads git once with the others.
  const share = request.node?.share;
  const listing = share?.listProject(context.projectDir, settings.ignore, settings.upload);
  const scanning = scanProject(
    context.projectDir,
    settings.ignore,
    settings.upload,
    previous,
    listing,
  );
  scanning.catch(() => {});
  const gitState = (share?.readGitState ?? readGitState)(context.projectDir);
  return { scanning, gitState, statePath, prepared: await preparing };
}
