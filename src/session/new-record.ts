// The run's record as it is first saved (`launching`, just before the launch): built whole from what
// the command asked and what the host is ready with; from then on its RecordWriter owns it.
import type { RunContext } from "../context.js";
import type { RunRecord } from "../runs/record.js";
import type { ReadyHost } from "./ready-host.js";
import type { RunRequest, Started } from "./run-request.js";

/** The run's record as it is saved before the launch (`launching`). */
export function buildRecord(
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

/** What a run resumed on a fresh host keeps of its lost one: its attempts, checkpoints and cost. */
function carriedOver(before: RunRecord): Partial<RunRecord> {
  const kept: Partial<RunRecord> = { startedAt: before.startedAt };
  for (const key of ["attempts", "results", "checkpoint", "machine"] as const) {
    if (before[key] !== undefined) Object.assign(kept, { [key]: before[key] });
  }
  return kept;
}
