// A run once it holds the remote dir's lock: the host made ready, the record created and handed to its
// one writer, the job launched and followed to its end (retried as `retry:` says).
import type { JobLaunch } from "../backends/types.js";
import type { RunContext } from "../context.js";
import { msSince } from "../context.js";
import { encodeSecretsFile } from "../remote/secrets.js";
import type { RunRecord } from "../runs/record.js";
import { createRecordWriter, type RecordWriter } from "../runs/record-writer.js";
import { runAttempts } from "./attempts.js";
import { readHostFacts } from "./host-facts.js";
import { buildRecord } from "./new-record.js";
import { planLaunch } from "./plan-launch.js";
import { type ReadyHost, readyHost } from "./ready-host.js";
import type { RunRequest, Started } from "./run-request.js";

/** The run once it holds the remote dir's lock: sync, environment, launch, then follow it through. */
export async function runLocked(
  context: RunContext,
  request: RunRequest,
  state: Started,
): Promise<RunRecord> {
  const { transport, report, clock } = context;
  const scan = await state.scanning;
  // Every node holds its lock before any node's bytes change: one refused node refuses the whole job.
  await request.node?.locked(transport, state.prepared.reached, state.prepared.held);
  const connectMs = msSince(clock, state.started);
  report({ type: "connected", target: transport.label, ms: connectMs });
  const host = await readyHost(context, request, state, scan);
  // The torchrun contract needs every node's address: known once all are synced and ready.
  const contract = (await request.node?.ready()) ?? {};
  const record = buildRecord(context, request, state, host, connectMs);
  // From here the record has one owner: every change made beside another phase, and every save.
  const writer = createRecordWriter(context.store, record);
  const described = describeHostLater(context, writer, host.facts, state.prepared.bootId);
  const secrets = request.secrets ?? {};
  const secretsText = record.secretNames ? encodeSecretsFile(secrets) : "";
  const git = await state.gitState;
  await writer.update(git ? { git } : {});
  const job = planLaunch(context, request, record, {
    env: { ...host.gpus.env, ...contract },
    activate: host.environment.activate,
    secretsText,
  });
  // A --no-wait run returns at its launch: its probe goes first, or the command would return only after
  // it, with the job already that far along (b30f697). Otherwise the probe's round trip runs beside the
  // launch and the job, off a cold run's critical path; the run ends once its facts are in the record.
  if (request.noWait) await described;
  const finished = await launchAndFollow(context, request, state, writer, job).finally(
    () => described,
  );
  const facts = writer.snapshot().host;
  return finished.host === undefined && facts !== undefined
    ? { ...finished, host: facts }
    : finished;
}

/**
 * Without a fresh probe, the record's facts are a recent probe's, or come from a probe that starts
 * after the sync (never slowing the upload: on the test bed, where both share two cores, it cost a
 * first sync 20%) and ends during the launch or the run (before the launch for --no-wait).
 */
function describeHostLater(
  context: RunContext,
  writer: RecordWriter,
  facts: ReadyHost["facts"],
  bootId: string,
): Promise<void> {
  if (facts) return Promise.resolve();
  return readHostFacts(context.transport, writer.record.target.remoteDir, { fresh: false, bootId })
    .then((found) => (found ? writer.update({ host: found }) : undefined))
    .catch(() => {});
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
