// `offload run`: parse what the user typed into a request, run it, render its events, return its exit code.
import type { EffectiveSettings } from "../../config/settings.js";
import { createStore, createTransport, toRunSettings } from "../../create.js";
import { EXIT_CODES } from "../../errors.js";
import { runJob } from "../../session/run.js";
import { createHumanReporter, createJsonReporter, type Output } from "../render.js";

export interface RunFlags {
  json?: boolean;
  quiet?: boolean;
}

export async function runCommand(
  projectDir: string,
  settings: EffectiveSettings,
  command: string[],
  flags: RunFlags,
  out: Output,
): Promise<number> {
  const transport = createTransport(settings);
  const report = flags.json
    ? createJsonReporter(out)
    : createHumanReporter(out, { quiet: flags.quiet ?? false });
  const record = await runJob({
    transport,
    store: createStore(projectDir),
    projectDir,
    target: {
      label: settings.hostLabel,
      kind: transport.kind,
      ...(settings.host.kind === "ssh"
        ? {
            host: settings.host.host,
            ...(settings.host.user ? { user: settings.host.user } : {}),
            ...(settings.host.port ? { port: settings.host.port } : {}),
          }
        : {}),
    },
    command,
    settings: toRunSettings(settings),
    report,
  });
  if (record.exitCode === null) return EXIT_CODES.lost;
  return record.exitCode;
}
