// Startup commands on a real OpenSSH host: they run in the command's shell, and one that fails says
// which, with its status, that the command did not run, and shows no path of offload's own.
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describeWithHosts(1, "startup commands", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const offload = (p: TempProject, args: string[]) =>
    runCli([args[0] ?? "", "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd: p.dir,
      env: { HOME: p.home, XDG_CONFIG_HOME: `${p.home}/config` },
    });
  const remote = `startup-${process.pid}`;

  it("run before the command, in its shell: what they export holds for it", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "startup:\n  - export GREETING=hello\n  - echo ready\n");
    const result = await offload(project, [
      "run",
      "--host",
      `${host}/${remote}`,
      "--",
      "sh -c 'echo $GREETING from the command'",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("ready\nhello from the command\n");
  });

  it("one that fails names itself and its status, the command does not run, and no offload path shows", async () => {
    project = await makeProject();
    await project.write(
      "offload.yaml",
      "startup:\n  - echo setting up\n  - nosuchtool --version\n  - echo never\n",
    );
    const result = await offload(project, [
      "run",
      "--host",
      `${host}/${remote}`,
      "--",
      "echo",
      "the command ran",
    ]);
    // The run's exit code is the failed startup command's: 127, the shell's "not found".
    expect(result.code, result.stderr).toBe(127);
    expect(result.stdout).toContain("setting up\n");
    expect(result.stdout).toContain(
      "offload: startup command 2 of 3 failed (exit 127): nosuchtool --version\n",
    );
    expect(result.stdout).toContain(
      "offload: so the command did not run (echo 'the command ran'); fix or remove that command under startup: in offload.yaml",
    );
    expect(result.stdout).not.toContain("never");
    expect(result.stdout).not.toContain("the command ran\n");
    expect(result.stdout).not.toMatch(/\.offload\/runs|job\.sh/);
  });
});
