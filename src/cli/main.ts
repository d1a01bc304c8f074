// The CLI entry: parses argv with commander, runs the chosen command, returns the exit code. The only
// place that decides how offload exits.
import { Command, CommanderError } from "commander";
import { EXIT_CODES, isOffloadError, OffloadError } from "../errors.js";
import { addMachineCommands } from "./commands/machines.js";
import {
  declareAttach,
  declareCheck,
  declareComplete,
  declareCompletion,
  declareConfig,
  declareEnvPrune,
  declareEvents,
  declareForward,
  declareInit,
  declareLogs,
  declarePs,
  declarePull,
  declareReport,
  declareRun,
  declareSchema,
  declareStop,
  declareSweep,
  declareUi,
} from "./declarations.js";
import { reportFailure } from "./errors.js";
import { addExamples } from "./help.js";
import { settleOwedMachinesFirst } from "./owed-machines.js";
import { settleWrites, watchOutputClosed } from "./pipes.js";
import type { Output } from "./render.js";
import { markTrace, printTrace } from "./trace.js";

/** A command's code, loaded when the command is chosen: commander's arguments follow the output. */
type CommandAction = (out: Output, ...args: never[]) => Promise<number>;

type CommandEntry = { names: readonly string[] } & (
  | { declare: (program: Command) => Command; load: () => Promise<CommandAction> }
  /** Commands that declare themselves and load their own code on use (the cloud machines'). */
  | { add: (program: Command, out: Output, setCode: (code: number) => void) => void }
);

/**
 * Every command, in --help's order. Only the declarations are read at start-up; a command's module (and
 * the library code it needs) is imported when it runs, so a new command costs the others nothing.
 */
const COMMANDS: readonly CommandEntry[] = [
  {
    names: ["run"],
    declare: declareRun,
    load: () => import("./commands/run.js").then((m) => m.runAction),
  },
  {
    names: ["attach"],
    declare: declareAttach,
    load: () => import("./commands/attach.js").then((m) => m.attachAction),
  },
  {
    names: ["stop"],
    declare: declareStop,
    load: () => import("./commands/stop.js").then((m) => m.stopAction),
  },
  {
    names: ["sweep"],
    declare: declareSweep,
    load: () => import("./commands/sweep.js").then((m) => m.sweepAction),
  },
  {
    names: ["check"],
    declare: declareCheck,
    load: () => import("./commands/check.js").then((m) => m.checkAction),
  },
  {
    names: ["env"],
    declare: declareEnvPrune,
    load: () => import("./commands/env.js").then((m) => m.pruneAction),
  },
  {
    names: ["config"],
    declare: declareConfig,
    load: () => import("./commands/config.js").then((m) => m.configAction),
  },
  {
    names: ["init"],
    declare: declareInit,
    load: () => import("./commands/init.js").then((m) => m.initAction),
  },
  {
    names: ["schema"],
    declare: declareSchema,
    load: () => import("./commands/schema.js").then((m) => m.schemaAction),
  },
  {
    names: ["ps"],
    declare: declarePs,
    load: () => import("./commands/ps.js").then((m) => m.psAction),
  },
  {
    names: ["logs"],
    declare: declareLogs,
    load: () => import("./commands/logs.js").then((m) => m.logsAction),
  },
  {
    names: ["pull"],
    declare: declarePull,
    load: () => import("./commands/pull.js").then((m) => m.pullAction),
  },
  {
    names: ["report"],
    declare: declareReport,
    load: () => import("./commands/report.js").then((m) => m.reportAction),
  },
  {
    names: ["events"],
    declare: declareEvents,
    load: () => import("./commands/events.js").then((m) => m.eventsAction),
  },
  {
    names: ["ui"],
    declare: declareUi,
    load: () => import("./commands/ui.js").then((m) => m.uiAction),
  },
  {
    names: ["forward"],
    declare: declareForward,
    load: () => import("./commands/forward.js").then((m) => m.forwardAction),
  },
  { names: ["machines", "up", "down"], add: addMachineCommands },
  {
    names: ["completion"],
    declare: declareCompletion,
    load: () => import("./commands/completion.js").then((m) => m.completionAction),
  },
  {
    names: ["__complete"],
    declare: declareComplete,
    load: () => import("./commands/completion.js").then((m) => m.completeAction),
  },
];

/**
 * The entries to declare for this argv: only the named command's when the first word names one
 * (commander built every command's definition on each start, ~9 ms of a warm run, profiled), none for
 * `--version`; all of them for the top-level --help, `help`, a mistyped command (commander suggests
 * the nearest name), and `completion` (its script lists every command).
 */
function chooseEntries(argv: readonly string[]): readonly CommandEntry[] {
  const first = argv[0];
  if (first === "--version" || first === "-V") return [];
  if (first === undefined || first === "completion") return COMMANDS;
  const entry = COMMANDS.find((candidate) => candidate.names.includes(first));
  return entry === undefined ? COMMANDS : [entry];
}

export function buildProgram(
  out: Output,
  setCode: (code: number) => void,
  argv: readonly string[] = [],
): Command {
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
  for (const entry of chooseEntries(argv)) {
    if ("add" in entry) {
      entry.add(program, out, setCode);
      continue;
    }
    entry.declare(program).action(async (...args: unknown[]) => {
      const action = await entry.load();
      setCode(await action(out, ...(args as never[])));
    });
  }
  addExamples(program);
  return program;
}

/**
 * Node writes to a pipe asynchronously and queues what the reader hasn't taken: a log streamed into a
 * slow `| less` or `| tee` would pile up in memory (0.5 GB for a 600 MB log, measured). Blocking writes
 * push back instead: offload stops reading ssh, ssh stops reading the remote tail, nothing is lost.
 */
function blockOnPipes(): { stdoutBlocks: boolean } {
  let stdoutBlocks = false;
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })
      ._handle;
    // A terminal blocks already (node sets it); no handle is a file's stream, written synchronously.
    const blocks =
      stream.isTTY || handle === undefined || (handle.setBlocking?.(true) ?? Number.NaN) === 0;
    if (stream === process.stdout) stdoutBlocks = blocks;
  }
  return { stdoutBlocks };
}

export async function main(
  argv: readonly string[],
  streams: Output = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  markTrace("main");
  const { stdoutBlocks } = blockOnPipes();
  const out: Output = { ...streams, closed: watchOutputClosed(streams.stdout, streams.stderr) };
  if (stdoutBlocks && streams.stdout === process.stdout) out.stdoutWritesAtOnce = true;
  let code = 0;
  const program = buildProgram(
    out,
    (c) => {
      code = c;
    },
    argv,
  );
  // The command a usage error belongs to, so the error can name its usage line and its --help.
  let current: Command = program;
  trackFailingCommand(program, (command) => {
    current = command;
  });
  program.hook("preAction", async (_program, action) => {
    current = action;
    // `machines` shows the ledger as it is and `down` settles it itself: every other command settles first.
    const top = action.parent?.parent ? action.parent.name() : action.name();
    if (top !== "machines" && top !== "down") await settleOwedMachinesFirst(out);
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    printTrace(out);
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
