// `offload run`: turn what the user typed into a run, render its events, return the exit code.
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import type { EffectiveSettings } from "../../config/settings.js";
import { createRunContext, createTransport } from "../../create.js";
import { OffloadError } from "../../errors.js";
import { resolveSecrets } from "../../remote/secrets.js";
import { checkRunName, parseRunTags } from "../../runs/labels.js";
import { runJob } from "../../session/run.js";
import { markOutputShown } from "../errors.js";
import { captureInterrupts } from "../interrupts.js";
import type { Output } from "../render.js";
import { load, loadForRun, requireHost, type TargetFlags } from "../settings.js";
import { markTrace, traceEvents } from "../trace.js";
import { attachCommand } from "./attach.js";
import { describeRunEnd } from "./run-end.js";
import { exitCodeOf, reporterFor, sayMachineLines } from "./run-follow.js";
import { forwardOnLaunch } from "./run-forwards.js";
import {
  cloudNodeSettings,
  refuseSharedRemoteDirs,
  runNodesCommand,
  splitNodeHosts,
} from "./run-nodes.js";

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

/** Where offload runs, relative to the project root: the command runs in its remote counterpart. */
function subfolderOf(projectDir: string): string {
  const inside = relative(projectDir, process.cwd());
  return inside.startsWith("..") ? "" : inside.split(sep).join("/");
}

export async function runAction(
  out: Output,
  command: string[],
  flags: TargetFlags & RunFlags & { resume?: boolean },
): Promise<number> {
  markTrace("run command loaded");
  if (flags.resume) {
    if (command.length > 0)
      throw new OffloadError(
        "E_USAGE",
        "--resume attaches to the latest run and starts nothing: it takes no command.",
        {
          hint: "Drop the command (`offload run --resume`), or drop --resume to start a new run.",
        },
      );
    const { projectDir, settings, runId } = await loadForRun(undefined, flags);
    return attachCommand(projectDir, settings, runId, flags, out);
  }
  if (command.length === 0)
    throw new OffloadError("E_USAGE", "`offload run` needs a command to run.", {
      hint: "For example `offload run --host gpu-box -- python train.py`; `offload run --resume` attaches to the latest run.",
    });
  // Checked before loading or connecting: a bad name or tag starts nothing.
  if (flags.name !== undefined) checkRunName(flags.name);
  parseRunTags(flags.tag ?? []);
  // A job across nodes: `--host a,b,c` or `nodes:`; each node's settings as for a run there.
  const hosts = splitNodeHosts(flags.host);
  const { projectDir, settings, sources } = await load(
    hosts ? { ...flags, host: hosts[0] ?? "" } : flags,
  );
  markTrace("settings loaded");
  const nodes = hosts ?? settings.nodes;
  if (nodes !== undefined) {
    const nodeSettings =
      typeof nodes === "number"
        ? cloudNodeSettings(settings, nodes)
        : (await Promise.all(nodes.map((host) => load({ ...flags, host })))).map((n) => n.settings);
    if (typeof nodes !== "number") refuseSharedRemoteDirs(nodeSettings);
    return runNodesCommand(projectDir, nodeSettings, command, flags, out, subfolderOf(projectDir));
  }
  requireHost(sources);
  return runCommand(projectDir, settings, command, flags, out);
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
  // The run may acquire another host than the settings name (a cloud machine): forwards go there.
  let hostTransport = transport;
  const forwards = forwardOnLaunch(
    () => hostTransport,
    flags.wait === false ? [] : settings.forward,
    sayMachineLines(out, reporter.report),
  );
  const report = traceEvents(forwards.report);
  const context = createRunContext({
    projectDir,
    settings,
    transport,
    report,
    controls: interrupts.controls,
  });
  const { store, hosts } = context;
  const onHost: typeof context = {
    ...context,
    hosts: {
      acquire: async (base, needs) => {
        const host = await hosts.acquire(base, needs);
        hostTransport = host.context.transport;
        return host;
      },
    },
  };
  let endLine: string | undefined;
  try {
    const record = await runJob(onHost, {
      command,
      ...(flags.name !== undefined ? { name: checkRunName(flags.name) } : {}),
      tags: parseRunTags(flags.tag ?? []),
      workdir: subfolderOf(projectDir),
      secrets: resolveSecrets(flags.secret ?? [], process.env, (path) =>
        readFileSync(path, "utf8"),
      ),
      rebuildEnv: flags.rebuildEnv ?? false,
      force: flags.force ?? false,
      noWait: flags.wait === false,
    });
    if (flags.wait === false && !flags.json) {
      out.stdout.write(`${record.id}\n`);
      out.stderr.write(
        `follow it with \`offload attach ${record.id}\`, stop it with \`offload stop ${record.id}\`\n`,
      );
    }
    if (flags.wait !== false && !flags.json) endLine = await describeRunEnd(store, record);
    return exitCodeOf(record);
  } catch (error) {
    // pip's last lines were streamed to the screen above: the error need not print them again.
    if (reporter.showedToolOutput()) markOutputShown(error);
    throw error;
  } finally {
    await forwards.close();
    reporter.close();
    interrupts.release();
    if (endLine !== undefined) out.stderr.write(`${endLine}\n`);
  }
}
