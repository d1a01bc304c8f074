// The core loop on each kind of target, one scenario written once: the embedded `local` target (no
// server) and a real OpenSSH server of the test bed (real rsync, real PyTorch). Target-only behaviour
// stays in local.test.ts and ssh.test.ts.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultRemoteDir } from "../../src/config/settings.js";
import { type CliResult, runCli, runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { hasTorch } from "../support/torch.js";
import { useTestbed, whyUnavailable } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

interface Target {
  name: string;
  /** Why this target cannot run here, or undefined. */
  skip: string | undefined;
  /** Why the training example cannot run here (no PyTorch for the ssh one), or undefined. */
  skipExample: string | undefined;
  /** `--host` for a run in remote dir `dir` (undefined: the target's default). */
  host(dir: string | undefined): string;
  offload(p: TempProject, args: string[]): Promise<CliResult>;
  /** A file of the remote side, as the target has it. */
  readRemote(path: string): Promise<Buffer>;
  /** The remote dir a run with `host(dir)` records. */
  remoteDir(p: TempProject, dir: string | undefined): string;
  example: { name: "quickstart" | "pytorch"; python: string; artifacts: string[]; model: string };
  /** The tool the first sync takes: a fresh remote dir gets a tar stream (sync/first-sync.ts). */
  syncTool?: "rsync" | "tar";
}

const bed = useTestbed();
const sshHost = bed.hosts[0] ?? "offload-h1";
const TORCH = hasTorch();
const ssh = (command: string) => execFileSync("ssh", ["-F", bed.sshConfig, sshHost, command]);

const TARGETS: Target[] = [
  {
    name: "local",
    skip: undefined,
    skipExample: undefined,
    host: (dir) => (dir === undefined ? "local" : `local/${dir}`),
    offload: runInProject,
    readRemote: (path) => readFile(path),
    remoteDir: (p, dir) =>
      // The default remote dir: the project's name and a hash of its root's path (README).
      dir === undefined ? defaultRemoteDir("project", p.dir).replace("~", p.home) : dir,
    example: {
      name: "quickstart",
      python: "python3",
      artifacts: ["outputs/metrics.json", "outputs/model.json"],
      model: "outputs/model.json",
    },
  },
  {
    name: "ssh",
    skip: whyUnavailable(bed, 1),
    skipExample: TORCH
      ? undefined
      : "/usr/bin/python3 can't import torch (apt-get install python3-torch)",
    host: (dir) => `${sshHost}/${dir ?? `offload-e2e-${process.pid}-${Date.now()}`}`,
    offload: (p, args) =>
      runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
        cwd: p.dir,
      }),
    readRemote: async (path) => ssh(`cat ${path}`),
    remoteDir: (_p, dir) => `/root/${dir}`,
    example: {
      name: "pytorch",
      python: "/usr/bin/python3",
      artifacts: ["outputs/model.pt", "outputs/metrics.json"],
      model: "outputs/model.pt",
    },
    syncTool: "tar",
  },
];

for (const target of TARGETS) {
  if (target.skip)
    process.stderr.write(`[${target.name}] skipping the core loop: ${target.skip}\n`);
  else if (target.skipExample)
    process.stderr.write(`[${target.name}] skipping the example run: ${target.skipExample}\n`);
}

describe.each(TARGETS)("the core loop on $name", (target) => {
  const skipped = target.skip !== undefined;

  it.skipIf(skipped || target.skipExample !== undefined)(
    "trains the example: live log, byte-identical copies, artifacts home, a complete run.json",
    async () => {
      project = await makeProject(target.example.name);
      const dir = target.name === "local" ? undefined : `offload-e2e-${process.pid}-${Date.now()}`;
      const command = [target.example.python, "train.py", "--epochs", "3"];
      const result = await target.offload(project, [
        "run",
        "--host",
        target.host(dir),
        "--",
        ...command,
      ]);
      expect(result.stderr).toContain("finished (exit 0)");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Epoch 3\/3/);

      const [id] = await project.runIds();
      if (!id) throw new Error("no run recorded");
      const record = await project.record(id);
      expect(record).toMatchObject({
        status: "succeeded",
        exitCode: 0,
        command,
        target: { label: target.host(dir), kind: target.name },
        ...(target.syncTool ? { sync: { tool: target.syncTool } } : {}),
      });
      expect(record.target.remoteDir).toBe(target.remoteDir(project, dir));
      expect(record.remote?.launcherPid).toBeGreaterThan(0);
      expect(Date.parse(record.finishedAt ?? "")).toBeGreaterThanOrEqual(
        Date.parse(record.startedAt),
      );
      for (const phase of ["connect", "sync", "launch", "run", "download", "total"] as const)
        expect(record.phases[phase]).toBeGreaterThanOrEqual(0);
      expect(record.sync?.transferred).toBeGreaterThan(0);
      expect(record.host?.os).toBe("Linux");
      expect(record.host?.cpus).toBeGreaterThan(0);
      expect(record.host?.memTotalBytes).toBeGreaterThan(0);
      expect(record.host?.diskFreeBytes).toBeGreaterThan(0);
      expect(record.host?.python?.version).toMatch(/^3\./);
      if (target.name === "ssh") expect(record.host?.hostname).toBe(sshHost);
      expect(record.artifacts).toEqual(expect.arrayContaining(target.example.artifacts));

      const remoteRun = join(record.target.remoteDir, ".offload/runs", id);
      const local = await project.localLog(id);
      expect(local.equals(await target.readRemote(join(remoteRun, "output.log")))).toBe(true);
      expect(record.logBytes).toBe(local.length);
      expect(result.stdout).toBe(local.toString("utf8"));

      const model = join(project.dir, ".offload/runs", id, "artifacts", target.example.model);
      const remoteModel = await target.readRemote(
        join(record.target.remoteDir, target.example.model),
      );
      expect((await readFile(model)).equals(remoteModel)).toBe(true);
      const metrics = JSON.parse(
        await readFile(
          join(project.dir, ".offload/runs", id, "artifacts/outputs/metrics.json"),
          "utf8",
        ),
      );
      expect(metrics).toBeTypeOf("object");
    },
  );

  it.skipIf(skipped)(
    "passes a non-zero exit code through, records the failure, and still downloads what exists",
    async () => {
      project = await makeProject();
      await project.write(
        "job.sh",
        "mkdir -p out\necho partial > out/partial.txt\necho failing >&2\nexit 42\n",
      );
      const result = await target.offload(project, [
        "run",
        "--host",
        target.host(undefined),
        "--download",
        "out/*.txt",
        "--",
        "sh",
        "job.sh",
      ]);
      expect(result.code).toBe(42);
      expect(result.stdout).toContain("failing");
      const [id] = await project.runIds();
      const record = await project.record(id ?? "");
      expect(record).toMatchObject({
        status: "failed",
        exitCode: 42,
        artifacts: ["out/partial.txt"],
      });
    },
  );
});
