// A remote login shell that prints on stderr (`printf … >&2` in ~/.bashrc, no newline: the worst case)
// runs before every round trip: what it says must not break the markers offload reads on stderr, nor
// reach the terminal, the job's output.log or an error message.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { jsonLines, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { defaultNames, describeWithHosts, execInHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const TOKEN = `offload-errnoise-${process.pid}`;
const BEGIN = `# ${TOKEN} begin`;
const END = `# ${TOKEN} end`;
const NOISE_TEXT = "stderr-noise-from-bashrc";
/**
 * Other tests share the host, so only our connections get the noise: they come from an address of
 * their own on the bed's bridge (ssh BindAddress), which the rc file tells by $SSH_CONNECTION
 * (shell-noise.test.ts, the stdout case, uses .254).
 */
const OUR_ADDRESS = "10.200.1.253";
// bash runs ~/.bashrc for a command given by sshd. Each run of it is counted in a file beside it.
const NOISE = [
  BEGIN,
  `case "$SSH_CONNECTION" in "${OUR_ADDRESS} "*) printf '${NOISE_TEXT}' >&2; echo x >> ~/${TOKEN}.count ;; esac`,
  END,
  "",
].join("\n");

describeWithHosts(
  3,
  "a login shell that prints on stderr",
  (bed) => {
    const host = bed.hosts[2] ?? "offload-h3";
    const inHost = async (script: string) => {
      const result = await execInHost(host, ["sh", "-c", script]);
      if (result.code !== 0) throw new Error(`in ${host}: ${script}: ${result.stderr}`);
      return result.stdout;
    };
    let sshConfig = "";
    // Private control sockets: a master opened from our address must serve no other test, and theirs not us.
    let controlDir = "";
    const offload = (p: TempProject, args: string[]) =>
      runCli([...args.slice(0, 1), "--ssh-config", sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        env: { OFFLOAD_CONTROL_DIR: controlDir },
      });
    const noiseRuns = async () =>
      Number((await inHost(`cat ~/${TOKEN}.count 2>/dev/null | wc -l`)).trim());

    let base = "";
    beforeAll(async () => {
      base = await mkdtemp(join(tmpdir(), "offload-errnoise-"));
      controlDir = join(base, "control");
      await mkdir(controlDir, { mode: 0o700 });
      sshConfig = join(base, "ssh_config");
      await writeFile(sshConfig, `BindAddress ${OUR_ADDRESS}\nInclude ${bed.sshConfig}\n`);
      execFileSync("ip", ["addr", "replace", `${OUR_ADDRESS}/24`, "dev", defaultNames().bridge]);
      await inHost(`printf '%s' '${NOISE.replaceAll("'", "'\\''")}' >> /root/.bashrc`);
    });
    afterAll(async () => {
      await inHost(`sed -i '/^${BEGIN}$/,/^${END}$/d' /root/.bashrc; rm -f ~/${TOKEN}.count`);
      execFileSync("ip", ["addr", "del", `${OUR_ADDRESS}/24`, "dev", defaultNames().bridge]);
      await rm(base, { recursive: true, force: true });
    });

    it("runs the job once, exits 0, and shows the noise nowhere: not on the terminal, not in output.log", async () => {
      project = await makeProject();
      await project.write("job.sh", "echo job out; echo job err >&2\n");
      const before = await noiseRuns();
      const result = await offload(project, [
        "run",
        "--host",
        `${host}/${TOKEN}-run`,
        "--",
        "sh",
        "job.sh",
      ]);
      // The noise was there: the login shell ran it on this run's round trips.
      expect(await noiseRuns()).toBeGreaterThan(before);
      expect(result.stderr).not.toContain(NOISE_TEXT);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe("job out\njob err\n");
      const [id = ""] = await project.runIds();
      expect((await project.localLog(id)).toString()).toBe("job out\njob err\n");
      expect(await project.record(id)).toMatchObject({ status: "succeeded", exitCode: 0 });
    });

    it("a --no-wait run: started, ps shows it, attach follows it to its end, all without the noise", async () => {
      project = await makeProject();
      await project.write("job.sh", "while [ ! -f release ]; do sleep 0.1; done; echo released\n");
      const remote = `${TOKEN}-nowait`;
      const started = await offload(project, [
        "run",
        "--no-wait",
        "--host",
        `${host}/${remote}`,
        "--",
        "sh",
        "job.sh",
      ]);
      expect(started.stderr).not.toContain(NOISE_TEXT);
      expect(started.code, started.stderr).toBe(0);
      const id = started.stdout.trim();
      const ps = await offload(project, ["ps", "--json"]);
      expect(ps.stderr).not.toContain(NOISE_TEXT);
      expect(jsonLines(ps.stdout).find((line) => line.id === id)).toMatchObject({
        status: "running",
      });
      await inHost(`touch /root/${remote}/release`);
      const attached = await offload(project, ["attach", id]);
      expect(attached.stderr).not.toContain(NOISE_TEXT);
      expect(attached.code, attached.stderr).toBe(0);
      expect(attached.stdout).toBe("released\n");
      expect((await project.localLog(id)).toString()).toBe("released\n");
    });
  },
  { netns: true },
);
