// `attach` to a run whose job has already ended completes it without offering Ctrl+C to leave a run
// that "goes on": both where this machine's record already says so and where only the host knows.
import { expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject } from "../support/project.js";
import { describeWithHosts, execInHost } from "../testbed/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithHosts(2, "attach to an ended run", (bed) => {
  const [, calm = "offload-h2"] = bed.hosts;

  it("says the run has ended, not that Ctrl+C leaves it going", async () => {
    const project = await makeProject();
    try {
      const remoteDir = `attach-ended-${process.pid}`;
      const cli = (args: string[]) =>
        runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
          cwd: project.dir,
        });
      const started = await cli([
        "run",
        "--no-wait",
        "--host",
        `${calm}/${remoteDir}`,
        "--",
        "echo",
        "done",
      ]);
      expect(started.code).toBe(0);
      const id = started.stdout.trim();
      // The job's end mark on the host; this machine's record still says running.
      let ended = false;
      for (let i = 0; i < 600 && !ended; i++) {
        const exit = await execInHost(calm, [
          "sh",
          "-c",
          `cat /root/${remoteDir}/.offload/runs/${id}/exit 2>/dev/null`,
        ]);
        ended = exit.stdout.trim() === "0";
        if (!ended) await sleep(100);
      }
      expect(ended, "the job never wrote its exit code").toBe(true);
      expect(await project.record(id)).toMatchObject({ status: "running" });

      const first = await cli(["attach", id]);
      expect(first.code).toBe(0);
      expect(first.stderr).toContain(`attached to run ${id}, which has ended`);
      expect(first.stderr).not.toContain("Ctrl+C");
      expect(await project.record(id)).toMatchObject({ status: "succeeded", exitCode: 0 });

      // Attaching again to the recorded end asks nothing of Ctrl+C either.
      const again = await cli(["attach", id]);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toContain("Ctrl+C");
    } finally {
      await project.remove();
    }
  });
});
