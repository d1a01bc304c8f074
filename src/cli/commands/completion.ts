// `offload completion bash|zsh|fish`: a script that completes commands and flags from the program itself,
// and run ids and target names by asking `offload __complete runs|targets` each time (always current).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { parse } from "yaml";
import { createStore } from "../../create.js";
import { OffloadError } from "../../errors.js";
import { findProjectDir } from "../../project.js";
import type { Output } from "../render.js";

/** Flags whose value is a run or a target: the script completes those from `offload __complete`. */
const HOST_FLAGS = ["--host"];
const RUN_COMMANDS = ["attach", "stop", "logs", "pull", "report", "forward"];

interface Entry {
  path: string;
  subcommands: string[];
  flags: string[];
}

function listEntries(command: Command, path: string, entries: Entry[]): void {
  const visible = command.commands.filter((c) => !c.name().startsWith("__"));
  const flags = command.options.flatMap((o) => [o.short, o.long]).filter((f) => f !== undefined);
  entries.push({ path, subcommands: visible.map((c) => c.name()), flags: [...flags, "--help"] });
  for (const sub of visible)
    listEntries(sub, path === "" ? sub.name() : `${path} ${sub.name()}`, entries);
}

export function completionScript(program: Command, shell: string): string {
  const entries: Entry[] = [];
  listEntries(program, "", entries);
  if (shell === "bash") return bashScript(entries);
  if (shell === "zsh")
    return `#compdef offload\nautoload -U bashcompinit && bashcompinit\n${bashScript(entries)}`;
  if (shell === "fish") return fishScript(entries);
  throw new OffloadError("E_USAGE", `offload completion knows bash, zsh and fish, not ${shell}.`, {
    hint: "For example `source <(offload completion bash)`.",
  });
}

function bashScript(entries: Entry[]): string {
  const cases = entries
    .map((e) => `    "${e.path}") words="${[...e.subcommands, ...e.flags].join(" ")}" ;;`)
    .join("\n");
  return `# offload completion for bash: source <(offload completion bash)
_offload() {
  local cur prev path="" i words=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      --) return 0 ;;
      -*) ;;
      *) case " $(_offload_subcommands "$path") " in
           *" \${COMP_WORDS[i]} "*) path="\${path:+$path }\${COMP_WORDS[i]}" ;;
         esac ;;
    esac
  done
  case "$prev" in
    ${HOST_FLAGS.join("|")})
      COMPREPLY=($(compgen -W "local $(offload __complete targets 2>/dev/null)" -- "$cur")); return 0 ;;
  esac
  case "$path" in
${cases}
  esac
  case "$path" in
    ${RUN_COMMANDS.join("|")})
      [[ "$cur" != -* ]] && words="$words $(offload __complete runs 2>/dev/null)" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_offload_subcommands() {
  case "$1" in
${entries.map((e) => `    "${e.path}") echo "${e.subcommands.join(" ")}" ;;`).join("\n")}
  esac
}
complete -F _offload offload
`;
}

function fishScript(entries: Entry[]): string {
  const lines = [
    "# offload completion for fish: offload completion fish > ~/.config/fish/completions/offload.fish",
  ];
  lines.push("complete -c offload -f");
  for (const e of entries) {
    const words = e.path === "" ? [] : e.path.split(" ");
    const condition =
      words.length === 0 ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${words.at(-1)}`;
    for (const sub of e.subcommands) lines.push(`complete -c offload -n '${condition}' -a ${sub}`);
    for (const flag of e.flags) {
      const spec = flag.startsWith("--") ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
      lines.push(`complete -c offload -n '${condition}' ${spec}`);
    }
  }
  lines.push(
    `complete -c offload -n '__fish_seen_subcommand_from ${RUN_COMMANDS.join(" ")}' -a '(offload __complete runs 2>/dev/null)'`,
    `complete -c offload -l host -x -a 'local (offload __complete targets 2>/dev/null)'`,
  );
  return `${lines.join("\n")}\n`;
}

/** `offload __complete runs|targets`: one value a line, nothing on any trouble (completion must not fail). */
export async function completeValues(kind: string): Promise<string[]> {
  const projectDir = findProjectDir(process.cwd());
  try {
    if (kind === "runs") return (await createStore(projectDir).list()).map((r) => r.id).reverse();
    if (kind === "targets") {
      const data = parse(await readFile(join(projectDir, "offload.yaml"), "utf8")) as {
        targets?: Record<string, unknown>;
      } | null;
      return Object.keys(data?.targets ?? {});
    }
  } catch {
    return [];
  }
  return [];
}

export async function completionAction(
  out: Output,
  shell: string,
  _flags: unknown,
  command: Command,
): Promise<number> {
  // Commander hands the action its command: the script completes what its parent, the program, declares.
  out.stdout.write(completionScript(command.parent ?? command, shell));
  return 0;
}

export async function completeAction(out: Output, kind: string): Promise<number> {
  const values = await completeValues(kind);
  out.stdout.write(values.map((v) => `${v}\n`).join(""));
  return 0;
}
