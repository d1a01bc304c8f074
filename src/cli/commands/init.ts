// `offload init`: writes a commented offload.yaml for this project, asking for the host on a terminal.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseHost } from "../../config/host.js";
import { PROJECT_FILE } from "../../config/load.js";
import { parseSettingsText } from "../../config/parse-file.js";
import { OffloadError } from "../../errors.js";
import { writeFileAtomic } from "../../runs/store.js";
import type { Output } from "../render.js";

export interface InitFlags {
  host?: string;
  remoteDir?: string;
  requirements?: string;
  force?: boolean;
}

/** A YAML scalar that reads back as exactly `text`, whatever it holds. */
function quoteYaml(text: string): string {
  return JSON.stringify(text);
}

/** The file's text: every setting a new project usually wants, the optional ones commented out. */
export function buildProjectFile(options: {
  host: string;
  remoteDir?: string;
  requirements?: string;
}): string {
  const lines = [
    "# offload.yaml: how `offload run` runs this project. `offload config` shows the effective",
    "# settings and where each came from; `offload schema` prints the JSON Schema for editors.",
    "",
    "# Where to run: [user@]host[:port][/path], an alias from ~/.ssh/config, a target below, or local.",
    `host: ${quoteYaml(options.host)}`,
    "",
    "# The remote working directory (default ~/.offload/work/<project name>-<hash of its path>).",
    options.remoteDir === undefined
      ? "# remote_dir: ~/offload/my-project"
      : `remote_dir: ${quoteYaml(options.remoteDir)}`,
    "",
    "# What to bring home into .offload/runs/<id>/artifacts after each run: globs, or remote|local.",
    "download:",
    '  - "outputs/**"',
    "",
    "# Files .gitignore leaves out that the job needs anyway (data, checkpoints): globs.",
    "# upload:",
    '#   - "data/*.csv"',
    "",
    "# Extra paths never synced (beside .gitignore and .offloadignore).",
    "# ignore:",
    '#   - "*.ckpt"',
    "",
    "# Environment variables for the job; secrets go through `offload run --secret NAME` instead.",
    "# env:",
    "#   WANDB_MODE: offline",
    "",
    "# A cached Python env built from this file on the host and reused while it does not change.",
    ...(options.requirements === undefined
      ? ["# python:", "#   requirements: requirements.txt"]
      : ["python:", `  requirements: ${quoteYaml(options.requirements)}`]),
    "",
    "# Named targets, used with `--host <name>`.",
    "# targets:",
    "#   big-gpu:",
    "#     host: me@gpu.example.org",
    "",
  ];
  return `${lines.join("\n")}`;
}

async function askHost(out: Output): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: out.stderr });
  try {
    const answer = (
      await rl.question("Host to run on ([user@]host[:port], an ssh alias, or local): ")
    ).trim();
    return answer;
  } finally {
    rl.close();
  }
}

export async function initCommand(
  projectDir: string,
  flags: InitFlags,
  out: Output,
  interactive: boolean = process.stdin.isTTY === true,
): Promise<number> {
  const path = join(projectDir, PROJECT_FILE);
  if (existsSync(path) && !flags.force)
    throw new OffloadError("E_USAGE", `${path} already exists; offload init changed nothing.`, {
      hint: "Edit it, or pass --force to replace it with a fresh one.",
    });
  const host = flags.host ?? (interactive ? await askHost(out) : undefined);
  if (host === undefined || host === "")
    throw new OffloadError("E_USAGE", "offload init needs a host to write into offload.yaml.", {
      hint: "Pass `--host <host>` (e.g. `--host me@gpu-box` or `--host local`), or run it in a terminal to be asked.",
    });
  const text = buildProjectFile({
    host,
    ...(flags.remoteDir !== undefined ? { remoteDir: flags.remoteDir } : {}),
    ...(flags.requirements !== undefined ? { requirements: flags.requirements } : {}),
  });
  // Checked as offload will read it, before it is written: a bad --host never lands in the file.
  parseHost(host);
  parseSettingsText(text, PROJECT_FILE);
  await writeFileAtomic(path, text);
  out.stderr.write(`wrote ${path}; try \`offload run -- <command>\`\n`);
  return 0;
}

export async function initAction(out: Output, flags: InitFlags): Promise<number> {
  return initCommand(process.cwd(), flags, out);
}
