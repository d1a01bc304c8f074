// What `--help` adds after the flags: examples per command, and for `offload` itself where things live.
import type { Command } from "commander";

const TOP = `
Settings, first wins: flags, then offload.yaml in the project (the directory holding it, or the
git root), then ~/.config/offload/config.yaml. \`offload config\` shows each value's source;
\`offload schema\` gives editors the file's JSON Schema.
Runs are recorded in .offload/runs/<id>/ (run.json, output.log, downloaded outputs).

Exit codes: a run exits with the remote command's code; offload's own: 2 usage, 200 an offload
error, 201 connection lost, 202 remote dir locked, 203 env build failed, 204 run lost,
205 outputs not all downloaded, 130 Ctrl+C, 141 stdout closed, 250 a bug in offload.

Examples:
  offload run --host gpu-box -- python train.py
  offload ps
  offload logs -f
  source <(offload completion bash)`;

/** Examples by command path (`env prune`); a command without any is left as it is. */
const EXAMPLES: Record<string, string[]> = {
  run: [
    "offload run --host gpu-box -- python train.py --epochs 10",
    "offload run --host user@10.0.0.5:2222/~/work --gpus 1 -e SEED=1 -- python train.py",
    "offload run --no-wait -- 'python prep.py && python train.py'",
  ],
  attach: ["offload attach", "offload attach 20261201-1830"],
  stop: ["offload stop", "offload stop 20261201-1830"],
  sweep: [
    "offload sweep --host gpu1,gpu2 --param lr=1e-3,1e-4 --param bs=32,64 -- python train.py --lr {lr} --bs {bs}",
    "offload report 20261201-1830",
  ],
  check: ["offload check --host gpu-box", "offload check --host gpu-box --json"],
  env: ["offload env prune --host gpu-box --dry-run"],
  "env prune": [
    "offload env prune --host gpu-box --dry-run",
    "offload env prune --host gpu-box --older-than 14",
  ],
  config: ["offload config --host gpu-box", "offload config --json"],
  init: [
    "offload init                 # asks for the host",
    "offload init --host gpu-box --requirements requirements.txt",
  ],
  schema: ["offload schema > offload.schema.json"],
  ps: ["offload ps", "offload ps --offline --json"],
  logs: ["offload logs", "offload logs -f --tail 20 20261201-1830"],
  pull: ["offload pull", "offload pull 20261201-1830 --to results/"],
  report: ["offload report", "offload report run-a run-b --html"],
  events: ["offload events .offload/runs/<id>/output.log --pattern 'acc=(?<acc>[0-9.]+)'"],
  ui: ["offload ui --open"],
  forward: ["offload forward 6006", "offload forward --host gpu-box 8888:9999 --open"],
  machines: ["offload machines", "offload machines --cloud openstack --json"],
  "machines address": ["openstack server show my-box -f json | offload machines address -"],
  "machines stop": ["offload machines stop offload-3f2a"],
  "machines start": ["offload machines start offload-3f2a"],
  down: ["offload down offload-3f2a"],
  up: ["offload up h100   # a `cloud:` target's machine, kept for the next runs"],
  completion: [
    "source <(offload completion bash)      # in ~/.bashrc",
    "offload completion zsh > ~/.zfunc/_offload",
    "offload completion fish > ~/.config/fish/completions/offload.fish",
  ],
};

/** Descriptions say what a command does where only a one-line summary was given. */
const DESCRIPTIONS: Record<string, string> = {
  schema:
    "Prints the JSON Schema of offload.yaml. Point your editor's YAML support at it (e.g. `# yaml-language-server: $schema=offload.schema.json`) to get completion and checks while you edit.",
  logs: "Prints a run's log (default: the latest run) from .offload/runs/<id>/output.log, then fetches from the host the bytes written since. With -f it follows until the run ends; Ctrl+C stops watching, never the run.",
};

export function addExamples(program: Command): void {
  program.addHelpText("after", TOP);
  for (const command of program.commands) describeCommand(command, command.name());
}

function describeCommand(command: Command, path: string): void {
  const description = DESCRIPTIONS[path];
  if (description !== undefined) command.description(description);
  else if (command.description() === "") command.description(command.summary());
  const examples = EXAMPLES[path];
  if (examples !== undefined)
    command.addHelpText("after", `\nExamples:\n${examples.map((e) => `  ${e}`).join("\n")}`);
  for (const sub of command.commands) describeCommand(sub, `${path} ${sub.name()}`);
}
