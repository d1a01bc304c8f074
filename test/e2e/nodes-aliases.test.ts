// Two host names of one machine in a job across nodes (an ssh alias and the host's own name): the names
// differ, so nothing refuses them before connecting, and the second node finds the remote dir locked by
// its own sibling. The error must say so and how to fix it, not offer `--force` or a wait.
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

// What `ssh -G` resolves for a host, written again under another name: a second alias of one machine.
const KEYS = [
  "hostname",
  "port",
  "user",
  "identityfile",
  "identitiesonly",
  "userknownhostsfile",
  "globalknownhostsfile",
  "stricthostkeychecking",
  "batchmode",
  "connecttimeout",
];

function aliasConfig(sshConfig: string, host: string, alias: string): string {
  const resolved = execFileSync("ssh", ["-G", "-F", sshConfig, host], { encoding: "utf8" })
    .split("\n")
    .filter((line) => KEYS.includes(line.split(" ")[0] ?? ""));
  // The Include first: after a Host line it would apply only to that host.
  return [`Include ${sshConfig}`, `Host ${alias}`, ...resolved.map((line) => `  ${line}`), ""].join(
    "\n",
  );
}

describeWithHosts(1, "two names of one machine as two nodes", (bed) => {
  it("is refused as one machine (E_USAGE, exit 2), naming both nodes and a remote dir each, with nothing left locked", async () => {
    project = await makeProject();
    await project.write("payload.txt", "synced\n");
    const host = bed.hosts[0] ?? "";
    const alias = `offload-alias-${process.pid}`;
    const config = join(project.home, "ssh_config");
    await writeFile(config, aliasConfig(bed.sshConfig, host, alias));
    const dir = `aliases-${process.pid}`;
    const offload = (args: string[]) =>
      runCli([args[0] ?? "", "--ssh-config", config, ...args.slice(1)], {
        cwd: project?.dir ?? "",
        env: { HOME: project?.home },
      });

    const result = await offload([
      "run",
      "--host",
      `${host},${alias}`,
      "--remote-dir",
      dir,
      "--",
      "cat",
      "payload.txt",
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("error E_USAGE");
    expect(result.stderr).toContain(`Nodes 0 (${host}) and 1 (${alias}) are one machine`);
    expect(result.stderr).toContain(`\`--host ${host}/a,${alias}/b\``);
    // The old hint sent the user to --force, which would have stopped the job's own other node.
    expect(result.stderr).not.toContain("offload run --force");
    // The node that held the lock gave it back: the same names with a remote dir each then run.
    const lock = execFileSync(
      "ssh",
      ["-F", config, host, `cat ${dir}/.offload/lock 2>/dev/null || echo free`],
      { encoding: "utf8" },
    );
    expect(lock).toBe("free\n");
    const fixed = await offload([
      "run",
      "--host",
      `${host}/${dir}-a,${alias}/${dir}-b`,
      "--",
      "cat",
      "payload.txt",
    ]);
    expect(fixed.code, fixed.stderr).toBe(0);
    execFileSync("ssh", ["-F", config, host, `rm -rf ${dir} ${dir}-a ${dir}-b`]);
  });
});
