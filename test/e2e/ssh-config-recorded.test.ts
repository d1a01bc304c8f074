// A run started with `--ssh-config FILE` is reached through FILE by every later command on it: the host
// name the test bed gives (offload-h1) means nothing to ssh without that file, as an alias from a
// project's own ssh config would not. Before, `ps` showed it `unknown` and `logs`/`attach` failed with
// "Could not resolve hostname" unless each was given the flag again.
import { execFileSync } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { jsonLines, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describeWithHosts(1, "a run's ssh config file", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const ssh = (command: string) => execFileSync("ssh", ["-F", bed.sshConfig, host, command]);

  it("is recorded, and ps, logs and attach reach the host through it without the flag", async () => {
    project = await makeProject();
    const dir = `offload-e2e-sshcfg-${process.pid}`;
    const cwd = project.dir;
    try {
      // The job waits for a file the test makes, so it is running while ps and logs look at it.
      const started = await runCli(
        [
          "run",
          "--ssh-config",
          bed.sshConfig,
          "--host",
          `${host}/${dir}`,
          "--no-wait",
          "--",
          "echo started; while [ ! -e go ]; do sleep 0.1; done; echo finished",
        ],
        { cwd },
      );
      expect(started.code).toBe(0);
      const id = started.stdout.trim();
      const record = await project.record(id);
      expect(record.target.sshConfig).toBe(bed.sshConfig);

      const ps = await runCli(["ps", "--json"], { cwd });
      expect(ps.code).toBe(0);
      expect(jsonLines(ps.stdout).find((r) => r.id === id)?.status).toBe("running");

      // The launch returns once the job is spawned; its first line may come a moment later.
      let logs = await runCli(["logs", id], { cwd });
      for (let i = 0; i < 50 && logs.code === 0 && logs.stdout === ""; i++)
        logs = await runCli(["logs", id], { cwd });
      expect(logs.stderr).toBe("");
      expect(logs.code).toBe(0);
      expect(logs.stdout).toBe("started\n");

      ssh(`touch ${record.target.remoteDir}/go`);
      const attached = await runCli(["attach", "--quiet", id], { cwd });
      expect(attached.code).toBe(0);
      expect(attached.stdout).toContain("finished\n");
      expect((await project.record(id)).status).toBe("succeeded");
    } finally {
      ssh(`rm -rf ~/${dir}`);
    }
  });
});
