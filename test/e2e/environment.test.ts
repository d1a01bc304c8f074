// The remote environment over real ssh: a cached venv reused across runs, rebuilt when requirements
// change, failing as an environment error; secrets that reach the job and nothing else; GPUs asked of a
// host that has none.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { HAS_VENV, makeWheel } from "../pyenv/venv-fixture.js";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, execInHost, processesInHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

describeWithHosts(
  2,
  "the remote environment",
  (bed) => {
    const host = bed.hosts[1] ?? "offload-h2";
    const offload = (p: TempProject, args: string[], env: NodeJS.ProcessEnv = {}) =>
      runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        env,
      });

    it.skipIf(!HAS_VENV)(
      "builds the env once, reuses it, rebuilds when requirements change, and reports a broken one as an env failure",
      async () => {
        project = await makeProject();
        mkdirSync(join(project.dir, "wheels"));
        makeWheel(join(project.dir, "wheels"), "tinypkg", "1.0");
        const unique = `${process.pid}-${Date.now()}`;
        await project.write(
          "requirements.txt",
          `# ${unique}\n./wheels/tinypkg-1.0-py3-none-any.whl\n`,
        );
        await project.write(
          "offload.yaml",
          "python:\n  requirements: requirements.txt\n  interpreter: /usr/bin/python3\n  system_site_packages: true\n",
        );
        const job = [
          "python",
          "-c",
          "import sys, tinypkg, torch; print('env', sys.prefix != sys.base_prefix, tinypkg.VERSION, 'torch', torch.__version__ != '')",
        ];
        const remote = `${host}/env-e2e-${unique}`;

        const first = await offload(project, ["run", "--host", remote, "--", ...job]);
        expect(first.code).toBe(0);
        expect(first.stdout).toBe("env True 1.0 torch True\n");
        expect(first.stderr).toMatch(/python env built: \S+/);
        expect(first.stderr).toContain("Successfully installed tinypkg");

        const second = await offload(project, ["run", "--host", remote, "--", ...job]);
        expect(second.code).toBe(0);
        expect(second.stderr).toMatch(/python env reused: \S+/);
        expect(second.stderr).not.toContain("Successfully installed");
        const [firstId = "", secondId = ""] = await project.runIds();
        const [built, reused] = [await project.record(firstId), await project.record(secondId)];
        expect(built.environment?.status).toBe("built");
        expect(reused.environment).toEqual({ dir: built.environment?.dir, status: "reused" });
        expect(reused.phases.env).toBeLessThan(built.phases.env ?? 0);

        await project.write(
          "requirements.txt",
          `# ${unique} changed\n./wheels/tinypkg-1.0-py3-none-any.whl\n`,
        );
        const third = await offload(project, ["run", "--host", remote, "--", ...job]);
        expect(third.stderr).toMatch(/python env built/);

        await project.write(
          "requirements.txt",
          `# ${unique}\ntinypkg==9.9.9 --no-index --find-links ./wheels\n`,
        );
        const broken = await offload(project, ["run", "--host", remote, "--", ...job]);
        expect(broken.code).toBe(203);
        expect(broken.stderr).toContain("E_ENV");
        // pip's error reaches the screen once: streamed live, and not again under the error line.
        const pipError = /No matching distribution found for tinypkg==9\.9\.9/g;
        expect(broken.stderr.match(pipError)).toHaveLength(1);
        expect(broken.stderr.indexOf("No matching distribution")).toBeLessThan(
          broken.stderr.indexOf("error E_ENV"),
        );
        // --quiet streams nothing: the error itself carries pip's last lines, once.
        const quiet = await offload(project, ["run", "--quiet", "--host", remote, "--", ...job]);
        expect(quiet.code).toBe(203);
        expect(quiet.stderr.match(pipError)).toHaveLength(1);
        expect(quiet.stderr.indexOf("No matching distribution")).toBeGreaterThan(
          quiet.stderr.indexOf("error E_ENV"),
        );
        expect(await project.runIds()).toHaveLength(3);
      },
    );

    it("gives a secret to the job and writes it nowhere: not argv, ps, logs, spec.json or run.json", async () => {
      project = await makeProject();
      const secret = `s3cr3t-${randomBytes(12).toString("hex")}`;
      const expected = execFileSync("sha256sum", { input: secret }).toString().split(" ")[0];
      const unique = `${process.pid}-${Date.now()}`;
      await project.write(
        "job.sh",
        "printf %s \"$API_TOKEN\" | sha256sum | cut -d' ' -f1\nsleep 3\necho done\n",
      );
      const remote = `env-secret-${unique}`;
      const running = offload(
        project,
        ["run", "--host", `${host}/${remote}`, "--secret", "API_TOKEN", "--", "sh", "job.sh"],
        { API_TOKEN: secret },
      );
      const samples: string[] = [];
      for (let i = 0; i < 20; i++) {
        samples.push(
          processesInHost(host)
            .map((p) => p.cmdline)
            .join("\n"),
        );
        samples.push(execFileSync("ps", ["-eo", "args"]).toString());
        await sleep(150);
      }
      const result = await running;
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${expected}\ndone\n`);
      for (const sample of samples) expect(sample).not.toContain(secret);
      const [id = ""] = await project.runIds();
      expect((await project.record(id)).secretNames).toEqual(["API_TOKEN"]);
      for (const file of filesUnder(join(project.dir, ".offload")))
        expect(readFileSync(file).includes(secret)).toBe(false);
      const grep = await execInHost(host, ["grep", "-rl", "--", secret, `/root/${remote}`]);
      expect(grep.code).toBe(1);
      expect(grep.stdout).toBe("");
      const left = await execInHost(host, ["ls", `/root/${remote}/.offload/runs/${id}`]);
      expect(left.stdout).not.toContain("secrets");
      expect(statSync(project.dir).isDirectory()).toBe(true);
    });

    it("refuses GPUs on a host that has none, early and with a hint", async () => {
      project = await makeProject();
      const result = await offload(project, [
        "run",
        "--host",
        `${host}/env-gpu-${process.pid}`,
        "--gpus",
        "1",
        "--",
        "touch",
        "ran",
      ]);
      expect(result.code).toBe(200);
      expect(result.stderr).toContain("E_GPU");
      expect(result.stderr).toContain("hint:");
      expect(await project.runIds()).toEqual([]);
      const ran = await execInHost(host, ["test", "-e", `/root/env-gpu-${process.pid}/ran`]);
      expect(ran.code).toBe(1);
    });
  },
  { netns: true },
);
