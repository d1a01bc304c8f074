// A remote login shell that prints on stdout (`echo` in ~/.bashrc) must not reach the log, the
// downloads or the resume offset: stdout is trusted only after the script's own start mark.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { defaultNames, describeWithHosts, execInHost, processesInHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TOKEN = `offload-noise-${process.pid}`;
const BEGIN = `# ${TOKEN} begin`;
const END = `# ${TOKEN} end`;
/**
 * Other tests share the host, so only our connections get the noise: they come from an address of
 * their own on the bed's bridge (ssh BindAddress), which the rc file tells by $SSH_CONNECTION.
 */
const OUR_ADDRESS = "10.200.1.254";
// bash runs ~/.bashrc for a command given by sshd (rsync's server included).
const NOISE = [
  BEGIN,
  `case "$SSH_CONNECTION" in "${OUR_ADDRESS} "*) echo "junk from bashrc 1"; echo "junk 2"; printf 'junk 3 no newline' ;; esac`,
  END,
  "",
].join("\n");

function countingJob(lines: number, pause: string): string {
  return `i=1; while [ $i -le ${lines} ]; do printf 'line %06d\\n' $i; i=$((i + 1)); sleep ${pause}; done`;
}

function expectedLines(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `line ${String(i + 1).padStart(6, "0")}\n`).join(
    "",
  );
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

describeWithHosts(
  2,
  "a login shell that prints on stdout",
  (bed) => {
    const host = bed.hosts[1] ?? "offload-h2";
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

    /** Kills the sshd connection serving our commands (not the other tests' sessions on this host). */
    const killOurSession = (): number[] => {
      const killed = new Set<number>();
      for (const proc of processesInHost(host).filter((p) => p.cmdline.includes(TOKEN))) {
        let pid: number | undefined = proc.pid;
        while (pid !== undefined && pid > 1 && !/^sshd/.test(commOf(pid))) pid = parentOf(pid);
        if (pid !== undefined && pid > 1 && !killed.has(pid)) {
          process.kill(pid, "SIGKILL");
          killed.add(pid);
        }
      }
      return [...killed];
    };

    let base = "";
    beforeAll(async () => {
      base = await mkdtemp(join(tmpdir(), "offload-noise-"));
      controlDir = join(base, "control");
      await mkdir(controlDir, { mode: 0o700 });
      sshConfig = join(base, "ssh_config");
      await writeFile(sshConfig, `BindAddress ${OUR_ADDRESS}\nInclude ${bed.sshConfig}\n`);
      execFileSync("ip", ["addr", "replace", `${OUR_ADDRESS}/24`, "dev", defaultNames().bridge]);
      await inHost(`printf '%s' '${NOISE.replaceAll("'", "'\\''")}' >> /root/.bashrc`);
    });
    afterAll(async () => {
      await inHost(`sed -i '/^${BEGIN}$/,/^${END}$/d' /root/.bashrc`);
      execFileSync("ip", ["addr", "del", `${OUR_ADDRESS}/24`, "dev", defaultNames().bridge]);
      await rm(base, { recursive: true, force: true });
    });

    it("streams a byte-exact log and downloads byte-exact files over the tar fallback", async () => {
      project = await makeProject();
      const remote = `${TOKEN}-tar`;
      await project.write("offload.yaml", "sync:\n  tool: tar\n");
      await project.write(
        "job.sh",
        [
          "mkdir -p out",
          "head -c 300000 /dev/urandom > out/small.bin",
          // Above the 64 MiB mark: it travels as a plain cat stream, framed by its announced size.
          "head -c 67109900 /dev/urandom > out/big.bin",
          countingJob(50, "0"),
          "",
        ].join("\n"),
      );
      const result = await offload(project, [
        "run",
        "--host",
        `${host}/${remote}`,
        "--download",
        "out/*",
        "--",
        "sh",
        "job.sh",
      ]);
      expect(result.stderr).not.toContain("junk");
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(expectedLines(50));
      const [id] = await project.runIds();
      if (!id) throw new Error("no run recorded");
      expect((await project.localLog(id)).toString()).toBe(expectedLines(50));
      expect(await project.record(id)).toMatchObject({
        status: "succeeded",
        sync: { tool: "tar" },
      });
      for (const file of ["out/small.bin", "out/big.bin"]) {
        const local = await readFile(join(project.dir, ".offload/runs", id, "artifacts", file));
        const remoteHash = await inHost(`sha256sum /root/${remote}/${file}`);
        expect(createHash("sha256").update(local).digest("hex")).toBe(remoteHash.split(" ")[0]);
      }
    });

    it("resumes at the right byte after its session is killed twice", async () => {
      project = await makeProject();
      await project.write("offload.yaml", "sync:\n  tool: tar\nssh:\n  keepalive: 1\n");
      await project.write("count.sh", countingJob(400, "0.01"));
      const running = offload(project, [
        "run",
        "--host",
        `${host}/${TOKEN}-resume`,
        "--",
        "sh",
        "count.sh",
      ]);
      const logSize = async () => {
        const [id] = (await project?.runIds()) ?? [];
        return id ? ((await project?.localLog(id).catch(() => undefined))?.length ?? 0) : 0;
      };
      let kills = 0;
      for (let i = 0; i < 600 && kills < 2; i++) {
        await sleep(50);
        const size = await logSize();
        if (size > (kills + 1) * 1000 && killOurSession().length > 0) kills += 1;
      }
      const result = await running;
      expect(kills).toBe(2);
      expect(result.code).toBe(0);
      const [id] = await project.runIds();
      expect((await project.localLog(id ?? "")).toString()).toBe(expectedLines(400));
    });

    it("says the shell is not clean when rsync meets the noise", async () => {
      project = await makeProject();
      await project.write("offload.yaml", "sync:\n  tool: rsync\n");
      await project.write("job.sh", "echo hi\n");
      const result = await offload(project, [
        "run",
        "--host",
        `${host}/${TOKEN}-rsync`,
        "--",
        "sh",
        "job.sh",
      ]);
      expect(result.code).toBe(200);
      expect(result.stderr).toContain("E_SHELL_NOISE");
      expect(result.stderr).toContain(".bashrc");
      expect(result.stderr).not.toMatch(/disk space/);
    });
  },
  { netns: true },
);
