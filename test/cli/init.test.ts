// `offload init`: the offload.yaml it writes loads through the real config loader.
import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/load.js";
import { runInProject } from "../support/cli.js";
import { makeProject, REPO, type TempProject } from "../support/project.js";

// util-linux `script` gives the CLI a real terminal (a pty): the only way to see the question asked.
const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const offload = runInProject;

describe("offload init", () => {
  it("writes a commented offload.yaml that the config loader reads as given", async () => {
    project = await makeProject();
    const result = await offload(project, [
      "init",
      "--host",
      "me@gpu-box:2222",
      "--requirements",
      "requirements.txt",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const text = await readFile(join(project.dir, "offload.yaml"), "utf8");
    expect(text).toMatch(/^# offload\.yaml/);
    expect(text).toContain("# upload:");
    const loaded = await loadSettings({ projectDir: project.dir, env: {}, homeDir: project.home });
    expect(loaded.settings.host).toMatchObject({
      kind: "ssh",
      host: "gpu-box",
      user: "me",
      port: 2222,
    });
    expect(loaded.settings.python.requirements).toBe("requirements.txt");
    expect(loaded.settings.download).toHaveLength(1);
    expect(loaded.sources.host).toMatchObject({ kind: "project", file: "offload.yaml" });
  });

  it("writes a file `offload run` uses without --host", async () => {
    project = await makeProject();
    expect((await offload(project, ["init", "--host", "local"])).code).toBe(0);
    const run = await offload(project, ["run", "--", "echo", "ran"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("ran\n");
  });

  it("refuses to overwrite an existing offload.yaml without --force (exit 2)", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "host: local\n");
    const refused = await offload(project, ["init", "--host", "box"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("already exists");
    expect(await readFile(join(project.dir, "offload.yaml"), "utf8")).toBe("host: local\n");
    const forced = await offload(project, ["init", "--host", "box", "--force"]);
    expect(forced.code).toBe(0);
    expect(await readFile(join(project.dir, "offload.yaml"), "utf8")).toContain('host: "box"');
  });

  it("without a terminal and without --host, asks nothing and writes nothing (exit 2)", async () => {
    project = await makeProject();
    const result = await offload(project, ["init"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("needs a host");
    await expect(readFile(join(project.dir, "offload.yaml"))).rejects.toThrow(/ENOENT/);
  });

  it.skipIf(!HAS_SCRIPT)("on a terminal, asks for the host and writes the answer", async () => {
    project = await makeProject();
    const cli = join(REPO, "bin/offload.js");
    const child = spawn("script", ["-qec", `${process.execPath} ${cli} init`, "/dev/null"], {
      cwd: project.dir,
      env: { ...process.env, HOME: project.home, NO_COLOR: "1" },
    });
    let seen = "";
    let answered = false;
    child.stdout.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      // Answer once the question is on the screen, then leave stdin open until the CLI is done.
      if (!answered && seen.includes("Host to run on")) {
        answered = true;
        child.stdin.write("me@gpu-box\n");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stdin.end();
    expect(code, seen).toBe(0);
    const loaded = await loadSettings({ projectDir: project.dir, env: {}, homeDir: project.home });
    expect(loaded.settings.host).toMatchObject({ kind: "ssh", host: "gpu-box", user: "me" });
  });
});
