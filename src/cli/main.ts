// The CLI entry: parses argv with commander, loads settings, calls the library, renders, returns the exit
// code. The only place that decides how offload exits.
import { Command, CommanderError, Option } from "commander";
import { describeSettings } from "../config/describe.js";
import { resolveSettings } from "../config/resolve.js";
import { toJsonSchema } from "../config/schema.js";
import { createStore, createTransport } from "../create.js";
import { EXIT_CODES, isOffloadError, OffloadError } from "../errors.js";
import { findProjectDir } from "../project.js";
import { checkRunName, parseRunTags } from "../runs/labels.js";
import { checkHost } from "../session/check.js";
import { pruneEnvs } from "../session/env-prune.js";
import { formatCheck } from "./commands/check.js";
import { formatPruned } from "./commands/env.js";
import { type EventsFlags, eventsCommand } from "./commands/events.js";
import type { InitFlags } from "./commands/init.js";
import { type LogsFlags, logsCommand } from "./commands/logs.js";
import { addMachineCommands } from "./commands/machines.js";
import { listRuns } from "./commands/ps.js";
import { type PullFlags, pullCommand } from "./commands/pull.js";
import { type ReportFlags, reportCommand } from "./commands/report.js";
import {
  attachCommand,
  type RunFlags,
  reportNothingRunning,
  runCommand,
  stopCommand,
} from "./commands/run.js";
import { reportFailure } from "./errors.js";
import { addExamples } from "./help.js";
import { settleWrites, watchOutputClosed } from "./pipes.js";
import type { Output } from "./render.js";
import { load, loadForRun, requireHost, type TargetFlags } from "./settings.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addTargetOptions(command: Command): Command {
  return command
    .option(
      "--host <host>",
      "where to run: [user@]host[:port][/path], an ssh alias, a target from offload.yaml, or `local`",
    )
    .option("-p, --port <port>", "ssh port (overrides ~/.ssh/config)")
    .option(
      "--remote-dir <dir>",
      "remote working directory (default ~/.offload/work/<project name>-<hash of its path>)",
    )
    .option("--ssh-config <file>", "ssh config file to use instead of ~/.ssh/config")
    .option("--json", "print one JSON object a line instead of text");
}

/** The CLI's flags as a settings layer, the highest in precedence. */
export function buildProgram(out: Output, setCode: (code: number) => void): Command {
  const program = new Command("offload")
    .description(
      "Run a training job on a machine you reach over SSH: sync, launch detached, stream the log, bring the outputs home.",
    )
    .version("0.1.0")
    .enablePositionalOptions()
    // Commander's own message is replaced by main's one-line E_USAGE error with the usage and a hint.
    .configureOutput({
      writeOut: (s) => out.stdout.write(s),
      writeErr: (s) => out.stderr.write(s),
      outputError: () => {},
    })
    .exitOverride();

  addTargetOptions(
    program
      .command("run")
      .summary(
        "sync the project, run a command on the host, stream its log, bring the outputs home",
      )
      .description(
        "Syncs the project (honouring .gitignore and .offloadignore), starts COMMAND detached in the remote dir so it survives any disconnect, streams its log, downloads the outputs named in `download:` into .offload/runs/<id>/, and exits with the command's exit code.\n\nOne argument with spaces is run as shell text: offload run -- 'python a.py && python b.py'.",
      )
      .argument("[command...]", "the command to run, after --")
      .usage("[options] -- <command...>")
      .passThroughOptions(),
  )
    .addOption(
      new Option(
        "-e, --env <KEY=VALUE>",
        "environment variable for the command (repeatable)",
      ).argParser(collect),
    )
    .addOption(
      new Option("--upload <rule>", "extra upload: glob, or local|remote (repeatable)").argParser(
        collect,
      ),
    )
    .addOption(
      new Option(
        "--download <rule>",
        "download after the run: glob, or remote|local (repeatable)",
      ).argParser(collect),
    )
    .option(
      "--results <url>",
      "put the download rules' matches into this bucket folder (s3://bucket/prefix/) from the host",
    )
    .option("--retries <n>", "run again up to n times after a failure or a lost host")
    .option("-q, --quiet", "only the log and the final line")
    .option("--name <name>", "a name for the run, usable wherever a run id is (its latest run)")
    .addOption(
      new Option(
        "--tag <KEY=VALUE>",
        "a tag recorded with the run, shown by ps (repeatable)",
      ).argParser(collect),
    )
    .addOption(
      new Option(
        "--secret <NAME[=@file]>",
        "secret for the command, from the local env var NAME or a file; never in argv, logs or records (repeatable)",
      ).argParser(collect),
    )
    .option("--gpus <n>", "use the n least busy GPUs (sets CUDA_VISIBLE_DEVICES); 0 hides them all")
    .option(
      "--rebuild-env",
      "rebuild the cached Python env even if its requirements did not change",
    )
    .option(
      "--no-wait",
      "start the run, print its id and return; `offload attach` follows it later",
    )
    .option("--force", "stop the run that holds the remote dir and take over")
    .option("--resume", "do not start anything: attach to the latest run (as mltk's --resume)")
    .action(async (command: string[], flags: TargetFlags & RunFlags & { resume?: boolean }) => {
      if (flags.resume) {
        if (command.length > 0)
          throw new OffloadError(
            "E_USAGE",
            "--resume attaches to the latest run and starts nothing: it takes no command.",
            {
              hint: "Drop the command (`offload run --resume`), or drop --resume to start a new run.",
            },
          );
        const { projectDir, settings } = await loadForRun(undefined, flags);
        setCode(await attachCommand(projectDir, settings.settings, settings.runId, flags, out));
        return;
      }
      if (command.length === 0)
        throw new OffloadError("E_USAGE", "`offload run` needs a command to run.", {
          hint: "For example `offload run --host gpu-box -- python train.py`; `offload run --resume` attaches to the latest run.",
        });
      // Checked before loading or connecting: a bad name or tag starts nothing.
      if (flags.name !== undefined) checkRunName(flags.name);
      parseRunTags(flags.tag ?? []);
      const { projectDir, settings, sources } = await load(flags);
      requireHost(sources);
      setCode(await runCommand(projectDir, settings, command, flags, out));
    });

  addTargetOptions(
    program
      .command("attach")
      .summary("follow a run again from where this machine's log ends, then finish it as run would")
      .argument("[run]", "run id, a unique part of it, or a run name (default: the latest run)"),
  )
    .option("-q, --quiet", "only the log and the final line")
    .action(async (run: string | undefined, flags: TargetFlags & RunFlags) => {
      const { projectDir, settings } = await loadForRun(run, flags);
      setCode(await attachCommand(projectDir, settings.settings, settings.runId, flags, out));
    });

  addTargetOptions(
    program
      .command("stop")
      .summary(
        "stop a run: TERM to all its processes, KILL after a grace period, its shutdown commands, then its log and outputs home",
      )
      .argument(
        "[run]",
        "run id, a unique part of it, or a run name (default: the latest running run)",
      ),
  ).action(async (run: string | undefined, flags: TargetFlags) => {
    let named = run;
    if (named === undefined) {
      // No run named: the latest run recorded as running, never one that has ended.
      const records = await createStore(findProjectDir(process.cwd())).list();
      const live = records.filter((r) => r.status === "running" || r.status === "launching").at(-1);
      if (live === undefined) {
        setCode(reportNothingRunning(records.at(-1), out, flags));
        return;
      }
      named = live.id;
    }
    const { projectDir, settings } = await loadForRun(named, flags);
    setCode(await stopCommand(projectDir, settings.settings, settings.runId, out, flags));
  });

  addTargetOptions(
    program
      .command("check")
      .summary("report what a host has: OS, CPUs, memory, disk, Python, rsync, GPUs"),
  ).action(async (flags: TargetFlags) => {
    const { settings } = await load(flags);
    const transport = createTransport(settings);
    const result = await checkHost(transport, settings.remoteDir);
    out.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${formatCheck(result)}\n`);
  });

  const env = program
    .command("env")
    .summary("manage the cached Python envs on a host")
    .description(
      "Runs reuse a cached env per requirements hash under ~/.offload/envs on the host; `env prune` removes the ones no run has used for a while.",
    );
  addTargetOptions(
    env
      .command("prune")
      .summary("remove cached envs no run used for --older-than days, and unfinished builds")
      .option("--older-than <days>", "days since an env's last use", "30")
      .option("--dry-run", "list what would be removed, remove nothing"),
  ).action(async (flags: TargetFlags & { olderThan: string; dryRun?: boolean }) => {
    const olderThanDays = Number(flags.olderThan);
    if (!Number.isInteger(olderThanDays) || olderThanDays < 0) {
      throw new OffloadError(
        "E_USAGE",
        `--older-than takes a whole number of days, not ${flags.olderThan}.`,
        {
          hint: "For example `offload env prune --host gpu-box --older-than 14`.",
        },
      );
    }
    const { settings } = await load(flags);
    const options = { olderThanDays, dryRun: flags.dryRun ?? false };
    const pruned = await pruneEnvs(createTransport(settings), options);
    if (flags.json) out.stdout.write(pruned.map((env) => `${JSON.stringify(env)}\n`).join(""));
    else out.stdout.write(`${formatPruned(pruned, options)}\n`);
  });

  addTargetOptions(
    program
      .command("config")
      .summary("print the effective settings and where each value came from"),
  ).action(async (flags: TargetFlags) => {
    const loaded = await load(flags);
    const described = describeSettings(await resolveSettings(loaded));
    if (flags.json) out.stdout.write(`${JSON.stringify(described)}\n`);
    else {
      const { formatDescribed } = await import("./commands/config.js");
      out.stdout.write(`${formatDescribed(described)}\n`);
    }
  });

  program
    .command("init")
    .summary("write a commented offload.yaml for this project (asks for the host on a terminal)")
    .option(
      "--host <host>",
      "the host to write into it: [user@]host[:port][/path], an alias, or local",
    )
    .option("--remote-dir <dir>", "the remote working directory to write into it")
    .option("--requirements <file>", "a requirements file for the cached Python env")
    .option("--force", "replace an existing offload.yaml")
    .action(async (flags: InitFlags) => {
      const { initCommand } = await import("./commands/init.js");
      setCode(await initCommand(process.cwd(), flags, out));
    });

  program
    .command("schema")
    .summary("print the JSON Schema of offload.yaml, for editor completion")
    .action(() => {
      out.stdout.write(`${JSON.stringify(toJsonSchema(), null, 2)}\n`);
    });

  program
    .command("ps")
    .summary("list this project's runs, asking the hosts of running ones how they stand")
    .option("--json", "print the run records as JSON")
    .option("--offline", "do not ask the hosts: show the records as this machine has them")
    .option("--ssh-config <file>", "ssh config file to use instead of ~/.ssh/config")
    .action(async (flags: { json?: boolean; offline?: boolean; sshConfig?: string }) => {
      const transportFor = async (record: { target: { label: string } }) => {
        const { settings } = await load({
          host: record.target.label,
          ...(flags.sshConfig ? { sshConfig: flags.sshConfig } : {}),
        });
        return createTransport(settings);
      };
      const store = createStore(findProjectDir(process.cwd()));
      setCode(await listRuns(store, out, flags, transportFor));
    });

  program
    .command("logs")
    .summary(
      "print a run's log (default: the latest run), fetching from the host what is not here yet",
    )
    .argument("[run]", "run id, a unique part of it, or a run name")
    .option(
      "-f, --follow",
      "keep printing until the run ends; Ctrl+C stops watching, the run goes on",
    )
    .option("--tail <lines>", "only the last lines")
    .option("--host <host>", "where the run is, if not where it was started")
    .option("--ssh-config <file>", "ssh config file to use instead of ~/.ssh/config")
    .action(async (run: string | undefined, flags: LogsFlags) => {
      setCode(await logsCommand(run, flags, out));
    });

  program
    .command("pull")
    .summary("bring the objects a run put into a bucket home (checksums checked)")
    .argument("[run]", "run id, a unique part of it, or a run name (default: the latest run)")
    .option("--to <dir>", "where to put them (default .offload/runs/<id>/artifacts)")
    .option("--json", "print what was pulled as JSON")
    .action(async (run: string | undefined, flags: PullFlags) => {
      setCode(await pullCommand(createStore(findProjectDir(process.cwd())), run, flags, out));
    });

  program
    .command("report")
    .summary("summarize runs' metrics with curves, or write a self-contained HTML report (--html)")
    .argument("[runs...]", "run ids, unique parts of them, or run names (default: the latest run)")
    .option("--html [file]", "write an HTML report (default .offload/runs/<id>/report.html)")
    .option("--json", "print the summaries as JSON")
    .action(async (runs: string[], flags: ReportFlags) => {
      const { projectDir, settings } = await load({});
      const patterns = settings.progress.patterns;
      setCode(await reportCommand(createStore(projectDir), runs, { ...flags, patterns }, out));
    });

  program
    .command("events")
    .summary("show the progress and metrics offload reads from a log file")
    .argument("<file>", "a log file, e.g. .offload/runs/<id>/output.log")
    .addOption(
      new Option("--pattern <regex>", "your regex with named groups (repeatable)").argParser(
        collect,
      ),
    )
    .option("--json", "print one JSON event a line")
    .action(async (file: string, flags: EventsFlags) => {
      const { settings } = await load({});
      setCode(
        await eventsCommand(file, { ...flags, configPatterns: settings.progress.patterns }, out),
      );
    });

  program
    .command("ui")
    .summary("a local web page over this project's runs: live logs and curves, compare, stop")
    .option("--port <port>", "port on 127.0.0.1 (default: any free port)")
    .option("--open", "open the page in a browser")
    .option("--ssh-config <file>", "ssh config file to use instead of ~/.ssh/config")
    .action(async (flags: { port?: string; open?: boolean; sshConfig?: string }) => {
      // Loaded on use: the dashboard's code costs the other commands nothing at start-up.
      const { uiCommand } = await import("./commands/ui.js");
      setCode(await uiCommand(flags, out));
    });

  program
    .command("forward")
    .summary("forward a host's ports (TensorBoard, Jupyter, a web UI) to this machine until Ctrl+C")
    .usage("[run] PORT[:LOCAL]... [options]")
    .argument(
      "<args...>",
      "an optional run whose host to reach, then PORT[:LOCAL]: the host's port on its 127.0.0.1 and the local one",
    )
    .option("--host <host>", "the host to reach (default: the run's, or the project's host)")
    .option("--ssh-config <file>", "ssh config file to use instead of ~/.ssh/config")
    .option("--open", "open each forwarded port in a browser")
    .action(
      async (args: string[], flags: { host?: string; sshConfig?: string; open?: boolean }) => {
        // Loaded on use, as `ui`.
        const { forwardCommand } = await import("./commands/forward.js");
        setCode(await forwardCommand(args, flags, out));
      },
    );

  addMachineCommands(program, out, setCode);

  program
    .command("completion")
    .summary("print a shell completion script: commands, flags, run ids and target names")
    .argument("<shell>", "bash, zsh or fish")
    .action(async (shell: string) => {
      const { completionScript } = await import("./commands/completion.js");
      out.stdout.write(completionScript(program, shell));
    });

  program
    .command("__complete", { hidden: true })
    .argument("<kind>", "runs or targets")
    .action(async (kind: string) => {
      const { completeValues } = await import("./commands/completion.js");
      const values = await completeValues(kind);
      out.stdout.write(values.map((v) => `${v}\n`).join(""));
    });

  addExamples(program);

  return program;
}

/**
 * Node writes to a pipe asynchronously and queues what the reader hasn't taken: a log streamed into a
 * slow `| less` or `| tee` would pile up in memory (0.5 GB for a 600 MB log, measured). Blocking writes
 * push back instead: offload stops reading ssh, ssh stops reading the remote tail, nothing is lost.
 */
function blockOnPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => void } })
      ._handle;
    if (!stream.isTTY) handle?.setBlocking?.(true);
  }
}

export async function main(
  argv: readonly string[],
  streams: Output = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  blockOnPipes();
  const out: Output = { ...streams, closed: watchOutputClosed(streams.stdout, streams.stderr) };
  let code = 0;
  const program = buildProgram(out, (c) => {
    code = c;
  });
  // The command a usage error belongs to, so the error can name its usage line and its --help.
  let current: Command = program;
  trackFailingCommand(program, (command) => {
    current = command;
  });
  program.hook("preAction", (_program, action) => {
    current = action;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    await settleWrites();
    return out.closed?.aborted ? EXIT_CODES.outputClosed : code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      const message = error.message.replace(/^error: /, "");
      return reportFailure(new OffloadError("E_USAGE", message), out, {
        json: argv.includes("--json"),
        usage: usageOf(current),
      });
    }
    // A write that failed because the reader left is the end of the output, not a bug.
    if (out.closed?.aborted && !isOffloadError(error)) return EXIT_CODES.outputClosed;
    const usage = isOffloadError(error) && error.code === "E_USAGE" ? usageOf(current) : undefined;
    return reportFailure(error, out, { json: argv.includes("--json"), usage });
  }
}

/** Commander reports a parse error from the (sub)command that failed: each one notes itself first. */
function trackFailingCommand(command: Command, note: (command: Command) => void): void {
  command.exitOverride((error) => {
    note(command);
    throw error;
  });
  for (const sub of command.commands) trackFailingCommand(sub, note);
}

/** `offload env prune [options]` and the --help that says more. */
function usageOf(command: Command): { line: string; help: string } {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  const path = names.join(" ");
  return { line: `${path} ${command.usage()}`, help: `${path} --help` };
}
