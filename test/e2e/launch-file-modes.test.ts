// The run's files on the host that hold the job's env (`-e`, `env:`) are readable by the user alone,
// while the job keeps the umask it would have had: on a first launch and on a warm (held) one.
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject } from "../support/project.js";
import { describeWithHosts, execInHost } from "../testbed/index.js";

describeWithHosts(2, "modes of the run's files on the host", (bed) => {
  const [host = "offload-h1"] = bed.hosts;

  it("writes launch.sh and spec.json 0600 and leaves the job's umask alone", async () => {
    const project = await makeProject();
    try {
      const remoteDir = `launch-modes-${process.pid}`;
      // What a command over ssh gets on this host: the job must see the same.
      const loginUmask = execFileSync("ssh", ["-F", bed.sshConfig, host, "umask"], {
        encoding: "utf8",
      }).trim();
      expect(loginUmask).not.toBe("0077");
      for (const attempt of ["first", "warm"]) {
        const result = await runCli(
          [
            "run",
            "--ssh-config",
            bed.sshConfig,
            "--host",
            `${host}/${remoteDir}`,
            "-e",
            "API_TOKEN=not-for-others",
            "--",
            "sh",
            "-c",
            "umask; : > made-by-job; stat -c %a made-by-job",
          ],
          { cwd: project.dir },
        );
        expect(result.code, `${attempt}: ${result.stderr}`).toBe(0);
        const lines = result.stdout.trim().split("\n");
        expect(lines[0], attempt).toBe(loginUmask);
        const fileMode = (0o666 & ~Number.parseInt(loginUmask, 8)).toString(8);
        expect(lines[1], attempt).toBe(fileMode);
        const runDir = `/root/${remoteDir}/.offload/runs/${(await project.runIds()).at(-1)}`;
        const modes = await execInHost(host, [
          "stat",
          "-c",
          "%a %n",
          `${runDir}/launch.sh`,
          `${runDir}/spec.json`,
        ]);
        expect(modes.stdout, attempt).toBe(`600 ${runDir}/launch.sh\n600 ${runDir}/spec.json\n`);
      }
    } finally {
      await project.remove();
    }
  });
});
