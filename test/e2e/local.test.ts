// The embedded `local` target: no server, same protocol. The core loop shared with ssh is in
// core-loop.test.ts.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const offload = runInProject;

describe("offload run --host local", () => {
  it("runs one argument with spaces as shell text, and passes env and startup/shutdown commands", async () => {
    project = await makeProject();
    await project.write(
      "offload.yaml",
      "env:\n  GREETING: hello world\nstartup:\n  - echo starting\nshutdown:\n  - echo stopping\n",
    );
    const result = await offload(project, [
      "run",
      "--host",
      "local",
      "-e",
      "EXTRA=$(not run)",
      "--",
      'echo "$GREETING|$EXTRA" && exit 7',
    ]);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe("starting\nhello world|$(not run)\nstopping\n");
  });

  // auto: the first sync into an empty dir streams a tar; rsync: the path of every later sync; tar: told to.
  it.each([
    ["auto", "tar"],
    ["rsync", "rsync"],
    ["tar", "tar"],
  ])(
    "keeps hostile file names intact through sync and download (sync.tool %s: %s)",
    async (setting, tool) => {
      project = await makeProject();
      await project.write("offload.yaml", `sync:\n  tool: ${setting}\n`);
      const names = [
        "with space.txt",
        "it's.txt",
        "$(touch pwned).txt",
        "new\nline.txt",
        "-rf",
        "ünïcødé ✓.txt",
        "back\\slash.txt",
      ];
      for (const name of names) await project.write(`data/${name}`, `content of ${name}`);
      const result = await offload(project, [
        "run",
        "--host",
        "local",
        "--download",
        "out/**",
        "--",
        "sh",
        "-c",
        "mkdir -p out && cp -R data/. out/",
      ]);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`with ${tool}`);
      const [id] = await project.runIds();
      expect((await project.record(id ?? "")).sync?.tool).toBe(tool);
      const artifacts = join(project.dir, ".offload/runs", id ?? "", "artifacts/out");
      expect((await readdir(artifacts)).sort()).toEqual([...names].sort());
      for (const name of names)
        expect(await readFile(join(artifacts, name), "utf8")).toBe(`content of ${name}`);
      expect((await readdir(project.dir)).includes("pwned")).toBe(false);
    },
  );

  it("refuses download paths that escape, and never follows a symlink out of the remote dir", async () => {
    project = await makeProject();
    const refused = await offload(project, [
      "run",
      "--host",
      "local",
      "--download",
      "../secret",
      "--",
      "true",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("E_USAGE");
    expect(refused.stderr).toMatch(/\.\./);
    expect(await project.runIds()).toEqual([]);

    const result = await offload(project, [
      "run",
      "--host",
      "local",
      "--download",
      "out/**",
      "--",
      "sh",
      "-c",
      "mkdir -p out && echo ok > out/real.txt && ln -s /etc/passwd out/passwd && ln -s /etc out/etc",
    ]);
    expect(result.code).toBe(0);
    const [id] = await project.runIds();
    const record = await project.record(id ?? "");
    expect(record.artifacts).toEqual(["out/real.txt"]);
    expect(
      (await readdir(join(project.dir, ".offload/runs", id ?? "", "artifacts/out"))).sort(),
    ).toEqual(["real.txt"]);
  });

  it("lists runs and prints a run's log", async () => {
    project = await makeProject();
    await offload(project, ["run", "--host", "local", "--", "echo", "first run"]);
    const ps = await offload(project, ["ps"]);
    expect(ps.stdout).toMatch(/succeeded\s+0\s+\S+\s+-\s+echo first run/);
    const logs = await offload(project, ["logs"]);
    expect(logs.stdout).toBe("first run\n");
  });

  it("uploads ignored files named by globs and `local|remote` mappings, and maps downloads home", async () => {
    project = await makeProject();
    await project.write(".gitignore", "data/\n");
    await project.write("data/a.csv", "a");
    await project.write("data/b.txt", "b");
    await project.write("../outside.txt", "from outside");
    await project.write(
      "offload.yaml",
      "upload:\n  - data/*.csv\n  - ../outside.txt|inputs/outside.txt\ndownload:\n  - result.txt|results/latest.txt\n  - { from: [missing.pt, best.txt], to: models/best.txt }\n",
    );
    const result = await offload(project, [
      "run",
      "--host",
      "local",
      "--",
      "sh",
      "-c",
      "ls data; cat inputs/outside.txt; echo; echo done > result.txt; echo best > best.txt",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("a.csv\nfrom outside\n");
    expect(await readFile(join(project.dir, "results/latest.txt"), "utf8")).toBe("done\n");
    expect(await readFile(join(project.dir, "models/best.txt"), "utf8")).toBe("best\n");
  });

  it("prints the effective settings with where each came from", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "remote_dir: ~/elsewhere\nenv:\n  A: from-project\n");
    const result = await offload(project, [
      "config",
      "--host",
      "local",
      "--json",
      "--remote-dir",
      "~/cli-dir",
    ]);
    expect(result.code).toBe(0);
    const described = JSON.parse(result.stdout);
    expect(described.remote_dir).toEqual({ value: "~/cli-dir", source: "cli" });
    expect(described.env.A).toEqual({ value: "from-project", source: "offload.yaml:3" });
  });

  it("refuses to run with no host from a flag or any settings file, and runs nothing", async () => {
    project = await makeProject();
    await project.write("job.sh", "touch ran\n");
    const result = await runCli(["run", "--", "sh", "job.sh"], {
      cwd: project.dir,
      env: { HOME: project.home, XDG_CONFIG_HOME: join(project.home, "config") },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error E_NO_HOST: No host to run on");
    expect(result.stderr).toContain("`--host local`");
    expect(await project.runIds()).toEqual([]);
    expect(await readdir(project.home)).toEqual([]);
  });

  it("names file, line and key of a bad setting and runs nothing", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "env:\n  A: 1\nuplaod:\n  - x\n");
    const result = await offload(project, ["run", "--host", "local", "--", "true"]);
    expect(result.code).toBe(200);
    expect(result.stderr).toMatch(/offload\.yaml:3.*uplaod/);
    expect(result.stderr).toContain("upload");
    expect(await project.runIds()).toEqual([]);
  });

  it("streams a file above 64 MiB with cat and places it whole", async () => {
    project = await makeProject();
    const result = await offload(project, [
      "run",
      "--host",
      "local",
      "--download",
      "out/**",
      "--",
      "sh",
      "-c",
      "mkdir -p out && head -c 70000000 /dev/urandom > out/big.bin && echo small > out/small.txt && sha256sum out/big.bin | cut -d' ' -f1",
    ]);
    expect(result.code).toBe(0);
    const [id = ""] = await project.runIds();
    const artifacts = join(project.dir, ".offload/runs", id, "artifacts/out");
    expect((await readdir(artifacts)).sort()).toEqual(["big.bin", "small.txt"]);
    const sum = createHash("sha256")
      .update(await readFile(join(artifacts, "big.bin")))
      .digest("hex");
    expect(`${sum}\n`).toBe(result.stdout);
  });

  it.each([
    ["auto", "tar"],
    ["rsync", "rsync"],
  ])(
    "uploads what the ignore rules keep and nothing they leave out, wildcard characters in names too (sync.tool %s: %s)",
    async (setting, tool) => {
      project = await makeProject();
      await project.write("offload.yaml", `sync:\n  tool: ${setting}\n`);
      await project.write(".gitignore", "secret*\nbuild/\n");
      for (const name of [
        "keep.py",
        "secret.key",
        "secret[1].key",
        "build/out.bin",
        "[weird]*name?.txt",
        "data/a.csv",
      ])
        await project.write(name, name);
      await project.write(".offloadignore", "data/\n");
      const result = await offload(project, [
        "run",
        "--host",
        "local",
        "--",
        "sh",
        "-c",
        "find . -path ./.offload -prune -o -type f -print | sort",
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        [
          "./.gitignore",
          "./.offloadignore",
          "./[weird]*name?.txt",
          "./keep.py",
          "./offload.yaml",
          "",
        ].join("\n"),
      );
      const [id] = await project.runIds();
      expect((await project.record(id ?? "")).sync?.tool).toBe(tool);
    },
  );

  it("records a started run as running while it streams, so `stop` after a killed offload brings it home", async () => {
    project = await makeProject();
    const current = project;
    let pid = 0;
    let started!: () => void;
    const printed = new Promise<void>((resolve) => (started = resolve));
    const running = runCli(["run", "--host", "local", "--", "echo up; exec sleep 300"], {
      cwd: current.dir,
      env: { HOME: current.home },
      onSpawn: (p) => (pid = p),
      onStdout: (text) => text.includes("up") && started(),
    });
    await printed;
    const [id = ""] = await current.runIds();
    let stopped: Awaited<ReturnType<typeof offload>>;
    try {
      // The host confirmed the start (its log is streaming): the record says so, not only at the end.
      let status = "launching";
      for (let i = 0; i < 2000 && status === "launching"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        status = (await current.record(id)).status;
      }
      expect(status).toBe("running");
    } finally {
      process.kill(pid, "SIGKILL");
      await running;
      // Also when the check above failed: the job must not outlive the test.
      stopped = await offload(current, ["stop", id]);
    }
    expect(stopped.code).toBe(0);
    expect(await current.record(id)).toMatchObject({ status: "stopped" });
    // The log came home (the job's shell may add its own "Terminated" line after ours).
    expect((await current.localLog(id)).toString()).toMatch(/^up\n/);
  });
});
