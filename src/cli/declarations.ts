// How commander declares each command: arguments, options, summary, usage. Declared up front, since
// parsing, --help and completion need them; the code a command runs is in commands/<name>.ts and is
// loaded only when that command is chosen (see main.ts's table).
import { type Command, Option } from "commander";

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A flag given once a value (`--tag a=1 --tag b=2`), read into a list. */
function repeatable(flags: string, description: string): Option {
  return new Option(flags, description).argParser(collect);
}

// Options and arguments several commands share, declared once so their words cannot drift apart.
const sshConfig = () =>
  new Option("--ssh-config <file>", "ssh config file to use instead of ~/.ssh/config");
const quiet = () => new Option("-q, --quiet", "only the log and the final line");
const rebuildEnv = () =>
  new Option(
    "--rebuild-env",
    "rebuild the cached Python env even if its requirements did not change",
  );
const RUN = "run id, a unique part of it, or a run name";
const LATEST_RUN = `${RUN} (default: the latest run)`;

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
    .addOption(sshConfig())
    .option("--json", "print one JSON object a line instead of text");
}

export function declareRun(program: Command): Command {
  return addTargetOptions(
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
      repeatable("-e, --env <KEY=VALUE>", "environment variable for the command (repeatable)"),
    )
    .addOption(repeatable("--upload <rule>", "extra upload: glob, or local|remote (repeatable)"))
    .addOption(
      repeatable("--download <rule>", "download after the run: glob, or remote|local (repeatable)"),
    )
    .option(
      "--results <url>",
      "put the download rules' matches into this bucket folder (s3://bucket/prefix/) from the host",
    )
    .option("--retries <n>", "run again up to n times after a failure or a lost host")
    .addOption(quiet())
    .option("--name <name>", "a name for the run, usable wherever a run id is (its latest run)")
    .addOption(
      repeatable("--tag <KEY=VALUE>", "a tag recorded with the run, shown by ps (repeatable)"),
    )
    .addOption(
      repeatable(
        "--secret <NAME[=@file]>",
        "secret for the command, from the local env var NAME or a file; never in argv, logs or records (repeatable)",
      ),
    )
    .option("--gpus <n>", "use the n least busy GPUs (sets CUDA_VISIBLE_DEVICES); 0 hides them all")
    .addOption(rebuildEnv())
    .option(
      "--no-wait",
      "start the run, print its id and return; `offload attach` follows it later",
    )
    .option("--force", "stop the run that holds the remote dir and take over")
    .option("--resume", "do not start anything: attach to the latest run (as mltk's --resume)");
}

export function declareAttach(program: Command): Command {
  return addTargetOptions(
    program
      .command("attach")
      .summary("follow a run again from where this machine's log ends, then finish it as run would")
      .description(
        "Ctrl+C stops watching; the run goes on. Given a sweep's id, shows the sweep's live table instead: a line each time one of its runs changes state, then the table of its runs. Each running run is followed to its end here (its log into its record), or watched while the `offload sweep` that started it still follows it; runs that sweep starts meanwhile join in. Exits 0 when every run of the sweep succeeded, else 1.",
      )
      .argument("[run]", `${RUN}, or a sweep id (default: the latest run)`),
  ).addOption(quiet());
}

export function declareStop(program: Command): Command {
  return addTargetOptions(
    program
      .command("stop")
      .summary(
        "stop a run: TERM to all its processes, KILL after a grace period, its shutdown commands, then its log and outputs home",
      )
      .description(
        "A run of a job across nodes stops every node. A sweep's id stops every running run of the sweep at once, and its `offload sweep` starts no more of the grid.",
      )
      .argument("[run]", `${RUN}, or a sweep id (default: the latest running run)`),
  );
}

export function declareCheck(program: Command): Command {
  return addTargetOptions(
    program
      .command("check")
      .summary("report what a host has: OS, CPUs, memory, disk, Python, rsync, GPUs"),
  );
}

/** `env`, which only groups, and its `prune`. */
export function declareEnvPrune(program: Command): Command {
  const env = program
    .command("env")
    .summary("manage the cached Python envs on a host")
    .description(
      "Runs reuse a cached env per requirements hash under ~/.offload/envs on the host; `env prune` removes the ones no run has used for a while.",
    );
  return addTargetOptions(
    env
      .command("prune")
      .summary("remove cached envs no run used for --older-than days, and unfinished builds")
      .option("--older-than <days>", "days since an env's last use", "30")
      .option("--dry-run", "list what would be removed, remove nothing"),
  );
}

export function declareConfig(program: Command): Command {
  return addTargetOptions(
    program
      .command("config")
      .summary("print the effective settings and where each value came from"),
  );
}

export function declareInit(program: Command): Command {
  return program
    .command("init")
    .summary("write a commented offload.yaml for this project (asks for the host on a terminal)")
    .option(
      "--host <host>",
      "the host to write into it: [user@]host[:port][/path], an alias, or local",
    )
    .option("--remote-dir <dir>", "the remote working directory to write into it")
    .option("--requirements <file>", "a requirements file for the cached Python env")
    .option("--force", "replace an existing offload.yaml");
}

export function declareSchema(program: Command): Command {
  return program
    .command("schema")
    .summary("print the JSON Schema of offload.yaml, for editor completion");
}

export function declarePs(program: Command): Command {
  return program
    .command("ps")
    .summary("list this project's runs, asking the hosts of running ones how they stand")
    .option("--json", "print the run records as JSON")
    .option("--offline", "do not ask the hosts: show the records as this machine has them")
    .addOption(sshConfig());
}

export function declareLogs(program: Command): Command {
  return program
    .command("logs")
    .summary(
      "print a run's log (default: the latest run), fetching from the host what is not here yet",
    )
    .argument("[run]", RUN)
    .option(
      "-f, --follow",
      "keep printing until the run ends; Ctrl+C stops watching, the run goes on",
    )
    .option("--tail <lines>", "only the last lines")
    .option("--node <k>", "node K's log of a job across nodes (counted from 0)")
    .option("--host <host>", "where the run is, if not where it was started")
    .addOption(sshConfig());
}

export function declarePull(program: Command): Command {
  return program
    .command("pull")
    .summary("bring the objects a run put into a bucket home (checksums checked)")
    .argument("[run]", LATEST_RUN)
    .option("--to <dir>", "where to put them (default .offload/runs/<id>/artifacts)")
    .option("--json", "print what was pulled as JSON");
}

export function declareReport(program: Command): Command {
  return program
    .command("report")
    .summary("summarize runs' metrics with curves, or write a self-contained HTML report (--html)")
    .argument("[runs...]", "run ids, unique parts of them, or run names (default: the latest run)")
    .option(
      "--html [file.html]",
      "write an HTML report (default .offload/runs/<id>/report.html); a word not ending in .html is a run",
    )
    .option("--json", "print the summaries as JSON");
}

export function declareEvents(program: Command): Command {
  return program
    .command("events")
    .summary("show the progress and metrics offload reads from a log file")
    .argument("<file>", "a log file, e.g. .offload/runs/<id>/output.log")
    .addOption(repeatable("--pattern <regex>", "your regex with named groups (repeatable)"))
    .option("--json", "print one JSON event a line");
}

export function declareUi(program: Command): Command {
  return program
    .command("ui")
    .summary("a local web page over this project's runs: live logs and curves, compare, stop")
    .option("--port <port>", "port on 127.0.0.1 (default: any free port)")
    .option("--open", "open the page in a browser")
    .addOption(sshConfig());
}

export function declareForward(program: Command): Command {
  return program
    .command("forward")
    .summary("forward a host's ports (TensorBoard, Jupyter, a web UI) to this machine until Ctrl+C")
    .usage("[run] PORT[:LOCAL]... [options]")
    .argument(
      "<args...>",
      "an optional run whose host to reach, then PORT[:LOCAL]: the host's port on its 127.0.0.1 and the local one",
    )
    .option(
      "--host <host>",
      "the host to reach (default: the given run's host; without a run, the project's `host:` setting)",
    )
    .addOption(sshConfig())
    .option("--open", "open each forwarded port in a browser");
}

export function declareCompletion(program: Command): Command {
  return program
    .command("completion")
    .summary("print a shell completion script: commands, flags, run ids and target names")
    .argument("<shell>", "bash, zsh or fish");
}

/** What the completion scripts call for run ids and target names. */
export function declareComplete(program: Command): Command {
  return program.command("__complete", { hidden: true }).argument("<kind>", "runs or targets");
}

export function declareSweep(program: Command): Command {
  return addTargetOptions(
    program
      .command("sweep")
      .summary("run a grid of parameters as separate runs, queued over one or more hosts")
      .description(
        "Each combination of the --param values is a run of its own (own remote dir, own record tagged with its parameters and the sweep's id), with {name} in the command replaced by its value. Runs are queued over the hosts given as --host a,b (one at a time on each; on a Slurm target the grid is one job array, a task a run); a failed run does not stop the others; Ctrl+C stops the running ones and starts no more. Exits 0 when every run succeeded, else 1. A `sweep:` block in offload.yaml (params, hosts, command) gives what the flags leave out; a --param replaces only its own parameter. `offload report SWEEP` compares the runs, `offload attach SWEEP` shows the live table again, `offload stop SWEEP` stops them all.",
      )
      .argument("[command...]", "the command to run, after --; {name} is a parameter's value")
      .usage("[options] --param NAME=V1,V2 -- <command...>")
      .passThroughOptions(),
  )
    .addOption(repeatable("--param <NAME=V1,V2>", "a parameter and its values (repeatable)"))
    .addOption(
      repeatable("-e, --env <KEY=VALUE>", "environment variable for every run (repeatable)"),
    )
    .addOption(
      repeatable(
        "--secret <NAME[=@file]>",
        "secret for every run, from the local env var NAME or a file (repeatable)",
      ),
    )
    .addOption(rebuildEnv());
}
