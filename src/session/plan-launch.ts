// What the backend launches for a run: the launch plan, and the bytes of its stdin (the secrets file,
// then spec.json, then the end mark the launch waits for).
import type { JobLaunch } from "../backends/types.js";
import type { RunContext } from "../context.js";
import type { LaunchPlan } from "../remote/launch.js";
import { STDIN_END } from "../remote/layout.js";
import { DEFAULT_SAMPLE_SECONDS } from "../remote/sampler.js";
import { buildSecretsReceiveLines, buildSecretsSourceLines } from "../remote/secrets.js";
import type { RecordView } from "../runs/record.js";
import type { RunRequest } from "./run-request.js";

/** What the backend launches: the plan, and the bytes for its stdin (the secrets file, spec.json). */
export function planLaunch(
  context: RunContext,
  request: RunRequest,
  record: RecordView,
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
