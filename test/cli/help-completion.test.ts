// --help explains every command with examples; `offload completion bash` completes in a real bash,
// run ids and target names included (asked of the built CLI through `offload __complete`).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/project.js";

const run = promisify(execFile);
const BIN = join(REPO, "bin", "offload.js");
const built = existsSync(join(REPO, "dist", "offload.cjs"));
const COMMANDS = [
  ["run"],
  ["attach"],
  ["stop"],
  ["check"],
  ["env", "prune"],
  ["config"],
  ["init"],
  ["sweep"],
  ["up"],
  ["schema"],
  ["ps"],
  ["logs"],
  ["pull"],
  ["report"],
  ["events"],
  ["ui"],
  ["forward"],
  ["machines"],
  ["machines", "address"],
  ["machines", "stop"],
  ["down"],
  ["completion"],
];

let dir: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "offload-completion-"));
  await mkdir(join(dir, "bin"));
  await symlink(BIN, join(dir, "bin", "offload"));
  await writeFile(join(dir, "offload.yaml"), "targets:\n  gpu-a:\n    host: box\n");
  env = { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}`, NO_COLOR: "1" };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function offload(args: string[]) {
  return run(process.execPath, [BIN, ...args], { cwd: dir, env });
}

/** What `_offload` offers for these words in a real bash with the generated script sourced. */
async function complete(words: string[]): Promise<string[]> {
  const array = words.map((w) => `'${w}'`).join(" ");
  const script = `source <(offload completion bash); COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _offload; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run("bash", ["-c", script], { cwd: dir, env });
  return stdout.split("\n").filter((w) => w !== "");
}

describe.skipIf(!built)("help", () => {
  it.each(COMMANDS.map((c) => [c.join(" ")]))(
    "%s --help has a description and examples",
    async (command) => {
      const { stdout } = await offload([...command.split(" "), "--help"]);
      expect(stdout).toMatch(/^Usage: offload /);
      expect(stdout.split("\n")[2]?.trim()).not.toBe("");
      expect(stdout).toMatch(/\nExamples:\n {2}.*offload/);
    },
  );

  // A command's own --help declares only that command (start-up); `help NAME` declares all of them.
  it.each([...new Set(COMMANDS.map((c) => c[0] ?? "")), "sweep", "init", "up", "__complete"])(
    "%s --help is word for word what `offload help %s` prints",
    async (name) => {
      const own = await offload([name, "--help"]);
      expect(own.stdout).toBe((await offload(["help", name])).stdout);
    },
  );

  it("--version and -V print the package's version and exit 0", async () => {
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as {
      version: string;
    };
    expect((await offload(["--version"])).stdout).toBe(`${version}\n`);
    expect((await offload(["-V"])).stdout).toBe(`${version}\n`);
  });

  it("a mistyped command is told the nearest of every command's names", async () => {
    await expect(offload(["attahc"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("(Did you mean attach?)"),
    });
  });

  it("the top-level help names offload.yaml, the exit codes and where runs are stored", async () => {
    const { stdout } = await offload(["--help"]);
    expect(stdout).toContain("offload.yaml");
    expect(stdout).toContain(".offload/runs/<id>/");
    expect(stdout).toContain("2 usage");
    expect(stdout).toContain("201 connection lost");
  });
});

describe.skipIf(!built)("completion", () => {
  it("completes commands, subcommands and flags", async () => {
    expect(await complete(["offload", "ru"])).toEqual(["run"]);
    expect(await complete(["offload", "env", "p"])).toEqual(["prune"]);
    expect(await complete(["offload", "run", "--gp"])).toEqual(["--gpus"]);
    expect(await complete(["offload", "env", "prune", "--d"])).toEqual(["--dry-run"]);
  });

  it("completes target names from offload.yaml and run ids from the run store", async () => {
    expect(await complete(["offload", "run", "--host", ""])).toEqual(["local", "gpu-a"]);
    await offload(["run", "--host", "local", "--", "true"]);
    const { stdout } = await offload(["ps", "--json", "--offline"]);
    const id = (JSON.parse(stdout.trim().split("\n")[0] ?? "{}") as { id: string }).id;
    expect(await complete(["offload", "logs", id.slice(0, 6)])).toEqual([id]);
  });

  it("knows zsh and fish, and refuses another shell with a usage error", async () => {
    expect((await offload(["completion", "zsh"])).stdout).toContain("#compdef offload");
    expect((await offload(["completion", "fish"])).stdout).toContain("complete -c offload");
    await expect(offload(["completion", "tcsh"])).rejects.toMatchObject({ code: 2 });
  });
});
