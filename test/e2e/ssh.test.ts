// Against a real OpenSSH server in a network namespace, with real rsync and real PyTorch. The core loop
// shared with the local target is in core-loop.test.ts.
import { execFileSync } from "node:child_process";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { hasTorch } from "../support/torch.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const TORCH = hasTorch();
if (!TORCH)
  process.stderr.write(
    "[ssh] skipping the PyTorch example runs: /usr/bin/python3 can't import torch (apt-get install python3-torch)\n",
  );

describeWithHosts(1, "offload run over ssh", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const offload = (p: TempProject, args: string[]) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], { cwd: p.dir });

  it.skipIf(!TORCH)(
    "streams progress and metric events live, writes metrics.jsonl, and reports them",
    async () => {
      project = await makeProject("pytorch");
      const result = await offload(project, [
        "run",
        "--json",
        "--host",
        `${host}/offload-e2e-progress-${process.pid}`,
        "--",
        "/usr/bin/python3",
        "train.py",
        "--epochs",
        "4",
      ]);
      expect(result.code).toBe(0);
      const events = result.stdout
        .trim()
        .split("\n")
        .map(
          (line) =>
            JSON.parse(line) as {
              type: string;
              line?: string;
              name?: string;
              value?: number;
              epoch?: number;
              epochs?: number;
            },
        );
      const firstProgress = events.findIndex(
        (e) => e.type === "progress" && e.epoch === 1 && e.epochs === 4,
      );
      const lastEpochLine = events.findIndex(
        (e) => e.type === "output" && e.line?.startsWith("Epoch 4/4"),
      );
      // Live: epoch 1's progress is reported before the job has even printed its last epoch.
      expect(firstProgress).toBeGreaterThanOrEqual(0);
      expect(firstProgress).toBeLessThan(lastEpochLine);
      expect(events.at(-1)?.type).toBe("finished");

      const [id = ""] = await project.runIds();
      const history = JSON.parse(
        await readFile(
          join(project.dir, ".offload/runs", id, "artifacts/outputs/metrics.json"),
          "utf8",
        ),
      ).history as { loss: number; acc: number }[];
      const metrics = (
        await readFile(join(project.dir, ".offload/runs", id, "metrics.jsonl"), "utf8")
      )
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { name: string; value: number; epoch?: number });
      const losses = metrics.filter((m) => m.name === "loss").map((m) => m.value);
      expect(losses).toEqual(history.map((h) => Number(h.loss.toFixed(4))));
      expect(metrics.filter((m) => m.name === "acc").map((m) => m.epoch)).toEqual([1, 2, 3, 4]);

      const report = await runCli(["report", "--json", id], { cwd: project.dir });
      expect(report.code).toBe(0);
      expect(report.stdout).toContain(String(losses.at(-1)));
    },
  );

  it("refuses a host whose key changed, with a hint, and never connects", async () => {
    project = await makeProject();
    const config = join(project.dir, "..", "ssh_config");
    const knownHosts = join(project.dir, "..", "known_hosts");
    const otherKey = join(project.dir, "..", "other_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
    const forged = (await readFile(`${otherKey}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    const original = await readFile(bed.knownHosts, "utf8");
    await writeFile(
      knownHosts,
      original
        .split("\n")
        .map((line) =>
          line.startsWith(`${host},`) || line.startsWith(`${host} `)
            ? `${line.split(" ")[0]} ${forged}`
            : line,
        )
        .join("\n"),
    );
    await writeFile(
      config,
      (await readFile(bed.sshConfig, "utf8")).replaceAll(bed.knownHosts, knownHosts),
    );
    const result = await runCli(["run", "--ssh-config", config, "--host", host, "--", "true"], {
      cwd: project.dir,
      env: { OFFLOAD_CONTROL_DIR: join(project.dir, "..") },
    });
    expect(result.code).toBe(200);
    expect(result.stderr).toContain("E_HOST_KEY_CHANGED");
    // The real argument: the known_hosts file offload's ssh read, and the name the key is stored under.
    const address = execFileSync("ssh", ["-G", "-F", config, host]).toString();
    const hostname = /^hostname (\S+)$/m.exec(address)?.[1];
    expect(result.stderr).toContain(`\`ssh-keygen -f ${knownHosts} -R ${hostname}\``);
    expect(await project.runIds()).toEqual([]);
  });

  it("refuses a host whose key is unknown", async () => {
    project = await makeProject();
    const config = join(project.dir, "..", "ssh_config");
    await writeFile(join(project.dir, "..", "empty_known_hosts"), "");
    await writeFile(
      config,
      (await readFile(bed.sshConfig, "utf8")).replaceAll(
        bed.knownHosts,
        join(project.dir, "..", "empty_known_hosts"),
      ),
    );
    const result = await runCli(["run", "--ssh-config", config, "--host", host, "--", "true"], {
      cwd: project.dir,
      env: { OFFLOAD_CONTROL_DIR: join(project.dir, "..") },
    });
    expect(result.code).toBe(200);
    expect(result.stderr).toContain("E_HOST_KEY_UNKNOWN");
    expect(result.stderr).toMatch(/hint: .*ssh /);
  });

  it("explains an unreachable host with a hint", async () => {
    project = await makeProject();
    await copyFile(bed.sshConfig, join(project.dir, "..", "ssh_config"));
    // A loopback port nobody listens on: refused at once, and nothing leaves this machine.
    const result = await offload(project, ["check", "--host", "127.0.0.1:9"]);
    expect(result.code).toBe(200);
    expect(result.stderr).toContain("E_HOST_UNREACHABLE");
    expect(result.stderr).toContain("hint:");
  });
});
