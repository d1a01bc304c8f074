// Slurm behind the Backend seam: what a Slurm target refuses before anything moves, a run whose record
// never learned its job id (offload ended mid-submit) found again from its run dir on attach, and a
// sweep whose runs Slurm gets all at once (it queues and places them, not offload).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithSlurm } from "./cluster/describe.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describe("a Slurm target refuses what a batch job cannot do, before connecting", () => {
  // No such login node: a refusal that came after a connect would say the host is unreachable.
  const yaml = "host: slurm-login.invalid\nremote_dir: /tmp/offload-never\nslurm:\n  nodes: 1\n";

  it("--secret: usage error 2, no run recorded", async () => {
    project = await makeProject();
    await project.write("offload.yaml", yaml);
    const result = await runCli(["run", "--secret", "TOKEN", "--", "true"], {
      cwd: project.dir,
      env: { HOME: project.home, TOKEN: "s3cr3t" },
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("--secret is not supported on the Slurm target");
    expect(result.stderr).not.toContain("s3cr3t");
    expect(await project.runIds()).toEqual([]);
  });

  it("retry: usage error 2 naming Slurm's own requeue, no run recorded", async () => {
    project = await makeProject();
    await project.write("offload.yaml", `${yaml}retry: { attempts: 2, on: [failed] }\n`);
    const result = await runCli(["run", "--", "true"], {
      cwd: project.dir,
      env: { HOME: project.home },
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("retry: is not supported on the Slurm target");
    expect(result.stderr).toContain("--requeue");
    expect(await project.runIds()).toEqual([]);
  });
});

describeWithSlurm("Slurm through the Backend seam", (cluster) => {
  it("finds the job its submit kept in the run dir and follows it to Slurm's end", async () => {
    project = await makeProject();
    const remoteDir = join(cluster().workDir, `seam-${process.pid}`);
    await project.write(
      "offload.yaml",
      `host: ${cluster().login}\nremote_dir: ${remoteDir}\nreconnect:\n  timeout: 30\nslurm:\n  nodes: 1\n`,
    );
    const offload = (args: string[]) =>
      runCli([args[0] ?? "", "--ssh-config", cluster().sshConfig, ...args.slice(1)], {
        cwd: project?.dir ?? "",
        env: { HOME: project?.home ?? "" },
      });
    const started = await offload(["run", "--no-wait", "--", "sh", "-c", "echo one; exit 3"]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    // As if offload had been killed between saving the record and learning the job id.
    const path = join(project.dir, ".offload/runs", id, "run.json");
    const record = JSON.parse(readFileSync(path, "utf8"));
    const jobId = record.slurm.jobId;
    delete record.slurm;
    record.status = "launching";
    writeFileSync(path, JSON.stringify(record));

    const attached = await offload(["attach", id]);
    expect(attached.code, attached.stderr).toBe(3);
    // srun's own line about the failed task may come before or after the job's, in one output file.
    expect(attached.stdout.split("\n")).toContain("one");
    expect(await project.record(id)).toMatchObject({
      status: "failed",
      exitCode: 3,
      slurm: { jobId, state: "FAILED" },
    });
  });

  it("a sweep submits its runs to Slurm at once: two runs that each wait for the other both finish", async () => {
    project = await makeProject();
    const remoteDir = join(cluster().workDir, `sweep-${process.pid}`);
    // On the shared file system: each run leaves its mark, then waits (bounded) for the other's. Run
    // one after the other, the first would give up (exit 7); side by side, both meet.
    const gate = join(cluster().workDir, `gate-${process.pid}`);
    mkdirSync(gate, { recursive: true });
    await project.write(
      "offload.yaml",
      `host: ${cluster().login}\nremote_dir: ${remoteDir}\nslurm:\n  nodes: 1\n`,
    );
    const result = await runCli(
      [
        "sweep",
        "--ssh-config",
        cluster().sshConfig,
        "--param",
        "i=0,1",
        "--",
        `touch ${gate}/{i}; n=0; while [ ! -f ${gate}/0 ] || [ ! -f ${gate}/1 ]; do n=$((n + 1)); [ $n -lt 600 ] || exit 7; sleep 0.2; done; echo met {i}`,
      ],
      { cwd: project.dir, env: { HOME: project.home } },
    );
    expect(result.code, result.stderr).toBe(0);
    const ids = await project.runIds();
    expect(ids).toHaveLength(2);
    const records = await Promise.all(ids.map((id) => project?.record(id)));
    for (const record of records)
      expect(record).toMatchObject({
        status: "succeeded",
        exitCode: 0,
        slurm: { jobId: expect.stringMatching(/^\d+_[01]$/), state: "COMPLETED" },
      });
    const logs = await Promise.all(
      ids.map(async (id) => (await project?.localLog(id))?.toString()),
    );
    expect(logs.sort()).toEqual(["met 0\n", "met 1\n"]);
  });
});
