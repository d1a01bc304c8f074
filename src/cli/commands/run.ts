// `offload run`, `attach` and `stop`: turn what the user typed into library calls, render their events,
// return the exit code.
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import type { EffectiveSettings } from "../../config/settings.js";
import { createStore, createTransport, toRunSettings } from "../../create.js";
import { EXIT_CODES, isOffloadError } from "../../errors.js";
import type { Reporter } from "../../events.js";
import { resolveSecrets } from "../../remote/secrets.js";
import { checkRunName, parseRunTags } from "../../runs/labels.js";
import type { RunRecord } from "../../runs/record.js";
import { attachRun } from "../../session/attach.js";
import { runJob } from "../../session/run.js";
import { stopSlurmRun } from "../../session/slurm.js";
import { stopRemoteRun } from "../../session/stop.js";
import { captureInterrupts } from "../interrupts.js";
import { createHumanReporter, createJsonReporter, type Output } from "../render.js";
import { describeRunEnd } from "./run-end.js";
import { forwardOnLaunch } from "./run-forwards.js";

export interface RunFlags {
  secret?: string[];
  rebuildEnv?: boolean;
  json?: boolean;
  quiet?: boolean;
  force?: boolean;
  wait?: boolean;
  name?: string;
  tag?: string[];
}

/** The reporter for these flags; `close` clears a status line before anything else is printed. */
function reporterFor(flags: RunFlags, out: Output): { report: Reporter; close: () => void } {
  if (flags.json) return { report: createJsonReporter(out), close: () => {} };
  const report = createHumanReporter(out, { quiet: flags.quiet ?? false });
  return { report, close: report.close };
}

/** Where offload runs, relative to the project root: the command runs in its remote counterpart. */
function subfolderOf(projectDir: string): string {
  const inside = relative(projectDir, process.cwd());
  return inside.startsWith("..") ? "" : inside.split(sep).join("/");
}

function exitCodeOf(record: RunRecord): number {
  if (record.status === "running") return 0;
  // A job that succeeded but whose outputs are not home is not a success for a script that uses them.
  if (record.exitCode === 0 && record.error?.code === "E_DOWNLOAD") return EXIT_CODES.download;
  return record.exitCode ?? EXIT_CODES.lost;
}

export async function runCommand(
  projectDir: string,
  settings: EffectiveSettings,
  command: string[],
  flags: RunFlags,
  out: Output,
): Promise<number> {
  const transport = createTransport(settings);
  const interrupts = captureInterrupts("stop-then-leave", out.closed);
  const reporter = reporterFor(flags, out);
  // Forwards live as long as this offload follows the run: none for --no-wait.
  const forwards = forwardOnLaunch(
    transport,
    flags.wait === false ? [] : settings.forward,
    reporter.report,
  );
  const store = createStore(projectDir);
  let endLine: string | undefined;
  try {
    const record = await runJob({
      transport,
      store,
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
      ...(flags.name !== undefined ? { name: checkRunName(flags.name) } : {}),
      tags: parseRunTags(flags.tag ?? []),
      workdir: subfolderOf(projectDir),
      settings: toRunSettings(settings, {
        secrets: resolveSecrets(flags.secret ?? [], process.env, (path) =>
          readFileSync(path, "utf8"),
        ),
        rebuildEnv: flags.rebuildEnv ?? false,
      }),
      report: forwards.report,
      force: flags.force ?? false,
      noWait: flags.wait === false,
      controls: interrupts.controls,
    });
    if (flags.wait === false && !flags.json) {
      out.stdout.write(`${record.id}\n`);
      out.stderr.write(
        `follow it with \`offload attach ${record.id}\`, stop it with \`offload stop ${record.id}\`\n`,
      );
    }
    if (flags.wait !== false && !flags.json) endLine = await describeRunEnd(store, record);
    return exitCodeOf(record);
  } finally {
    await forwards.close();
    reporter.close();
    interrupts.release();
    if (endLine !== undefined) out.stderr.write(`${endLine}\n`);
  }
}

export async function attachCommand(
  projectDir: string,
  settings: EffectiveSettings,
  runId: string,
  flags: RunFlags,
  out: Output,
): Promise<number> {
  // Watching only: Ctrl+C leaves the run going (`offload stop` stops it).
  const interrupts = captureInterrupts("leave", out.closed);
  const reporter = reporterFor(flags, out);
  const store = createStore(projectDir);
  let endLine: string | undefined;
  try {
    const run = toRunSettings(settings);
    const record = await attachRun({
      transport: createTransport(settings),
      store,
      projectDir,
      runId,
      report: reporter.report,
      reconnectTimeoutSeconds: run.reconnectTimeoutSeconds,
      graceSeconds: run.graceSeconds,
      controls: interrupts.controls,
      progressPatterns: settings.progress.patterns,
    });
    if (!flags.json && record.status !== "running") endLine = await describeRunEnd(store, record);
    return exitCodeOf(record);
  } finally {
    reporter.close();
    interrupts.release();
    if (endLine !== undefined) out.stderr.write(`${endLine}\n`);
  }
}

/** `offload stop` with no run named and no run recorded as running: say so, stop nothing. */
export function reportNothingRunning(
  latest: RunRecord | undefined,
  out: Output,
  flags: { json?: boolean },
): number {
  if (flags.json) out.stdout.write(`${JSON.stringify({ outcome: "nothing-running" })}\n`);
  const last = latest ? ` (the latest, ${latest.id}, ${latest.status})` : "";
  out.stderr.write(
    `no run of this project is running${last}; nothing was stopped. \`offload stop <run>\` names one.\n`,
  );
  return 0;
}

export async function stopCommand(
  projectDir: string,
  settings: EffectiveSettings,
  runId: string,
  out: Output,
  flags: { json?: boolean } = {},
): Promise<number> {
  const run = toRunSettings(settings);
  const store = createStore(projectDir);
  const transport = createTransport(settings);
  const record = await store.load(runId);
  const say = (text: string) => {
    if (!flags.json) out.stderr.write(text);
  };
  const result = (outcome: string, final: RunRecord = record) => {
    if (flags.json) {
      const { id, status, exitCode } = final;
      out.stdout.write(`${JSON.stringify({ runId: id, outcome, status, exitCode })}\n`);
    }
    return 0;
  };
  say(
    `stopping run ${record.id} on ${settings.hostLabel} (TERM, KILL after ${run.graceSeconds} s)…\n`,
  );
  const outcome = record.slurm
    ? await stopSlurmRun(transport, record)
    : await stopRemoteRun(transport, record.target.remoteDir, record.id, run.graceSeconds);
  const said = {
    stopped: "stopped",
    "already-ended": "had already ended",
    pending: "was signalled; it has not written its exit status yet",
  }[outcome];
  say(`run ${record.id} ${said}\n`);
  if (outcome === "pending")
    say(`\`offload attach ${record.id}\` records its end once it has one.\n`);
  if (outcome === "pending" || record.status !== "running") return result(outcome);
  // Like a Ctrl+C in `offload run`: bring the rest of the log and the outputs home and record the end,
  // unless the offload that started the run is still following it and does that itself.
  // Quiet: only the final line. The log's tail goes to the run's output.log, not to this terminal.
  const reporter = flags.json ? undefined : createHumanReporter(out, { quiet: true });
  const quiet: Reporter = (event) => {
    if (event.type !== "output") reporter?.(event);
  };
  try {
    const final = await attachRun({
      transport,
      store,
      projectDir,
      runId: record.id,
      report: quiet,
      reconnectTimeoutSeconds: run.reconnectTimeoutSeconds,
      graceSeconds: run.graceSeconds,
      stopRequested: true,
    });
    return result(outcome, final);
  } catch (error) {
    if (isOffloadError(error) && error.code === "E_LOCKED") {
      say(`the offload following run ${record.id} records its end.\n`);
      return result(outcome);
    }
    throw error;
  } finally {
    reporter?.close();
  }
}
