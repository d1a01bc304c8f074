// The host as a run's job needs it, once the remote dir's lock is held: the workspace synced, the GPUs
// picked from a probe made beside the sync, the Python env built, the inputs fetched.
import type { RunContext } from "../context.js";
import type { RunRecord } from "../runs/record.js";
import { manifestPath } from "../sync/mirror.js";
import { fetchRunInputs } from "./bucket-fetch.js";
import { chooseGpus, prepareEnvironment } from "./environment.js";
import { readHostFacts } from "./host-facts.js";
import { syncWorkspace } from "./prepare.js";
import type { ProjectScan } from "./project-scan.js";
import type { RunRequest, Started } from "./run-request.js";

/** What the host is ready with once the workspace is synced: the sync, the GPUs, the env, the inputs. */
export interface ReadyHost {
  synced: Awaited<ReturnType<typeof syncWorkspace>>;
  facts: Awaited<ReturnType<typeof readHostFacts>>;
  gpus: ReturnType<typeof chooseGpus>;
  environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  inputs: RunRecord["inputs"];
}

/**
 * Syncs the workspace, picks the GPUs from a probe made beside the sync, builds the Python env and
 * fetches the inputs: the host as the job needs it.
 */
export async function readyHost(
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
