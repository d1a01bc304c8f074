// What the backend launches for a run: the launch plan, and the bytes of its stdin (the secrets file,
// then spec.json, then the end mark the launch waits for).
import type { JobLaunch } from "../backends/types.js";
import type { RunContext } from "../context.js";
import { buildLaunchScript, type LaunchPlan } from "../remote/launch.js";
import { STDIN_END } from "../remote/layout.js";
import { DEFAULT_SAMPLE_SECONDS } from "../remote/sampler.js";
import {
  buildSecretsReceiveLines,
  buildSecretsSourceLines,
  encodeSecretsFile,
} from "../remote/secrets.js";
import type { RecordView } from "../runs/record.js";
import { RunProtocolBackend } from "./protocol-backend.js";
import type { RunRequest } from "./run-request.js";

/** What the backend launches: the plan, and the bytes for its stdin (the secrets file, spec.json). */
export function planLaunch(
  context: RunContext,
  request: RunRequest,
  record: RecordView,
  parts: { env: Record<string, string>; activate: readonly string[]; secretsText: string },
): JobLaunch {
  const { target } = context;
  const { secretsText } = parts;
  const plan = buildLaunchPlan(context, request, record.id, record.target.remoteDir, parts);
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

/**
 * The launch script a run's prepare may hold its connection for (held-launch.ts), planned before the
 * record exists: only where the launch does not depend on what the host says (no GPU pick, no Python
 * env, no node of a job across hosts) and the run protocol launches. The launch itself compares its
 * script with this one, and launches down the held connection only when they are the same.
 */
export function planHeldLaunch(
  context: RunContext,
  request: RunRequest,
  runId: string,
  remoteDir: string,
): string | undefined {
  const { settings } = context;
  if (!holdsLaunches(context) || request.node) return undefined;
  if (settings.gpus !== undefined || settings.python.requirements !== undefined) return undefined;
  const secrets = request.secrets ?? {};
  const secretsText = Object.keys(secrets).length > 0 ? encodeSecretsFile(secrets) : "";
  const parts = { env: {}, activate: [], secretsText };
  return buildLaunchScript(buildLaunchPlan(context, request, runId, remoteDir, parts));
}

/** Whether the run's backend launches down a held prepare connection: the run protocol does. */
export function holdsLaunches(context: RunContext): boolean {
  return context.backend instanceof RunProtocolBackend;
}

function buildLaunchPlan(
  context: RunContext,
  request: RunRequest,
  runId: string,
  remoteDir: string,
  parts: { env: Record<string, string>; activate: readonly string[]; secretsText: string },
): LaunchPlan {
  const { settings } = context;
  const { secretsText } = parts;
  return {
    runId,
    remoteDir,
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
}
