// The launch's unhappy paths on a real host: a secret too big for any environment, a PATH without the
// tools the launcher runs, a full disk. Each ends with a cause named and no secret left on the disk.
import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, execInHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describeWithHosts(
  1,
  "launch paths that cannot finish",
  (bed) => {
    const host = bed.hosts[0] ?? "offload-h1";
    const unique = `${process.pid}-${Date.now()}`;
    const offload = (p: TempProject, args: string[], env: NodeJS.ProcessEnv = {}) =>
      runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        env,
      });
    const inHost = async (script: string) => (await execInHost(host, ["sh", "-c", script])).stdout;

    it("refuses a 400 KB secret before anything reaches the host, naming the cause", async () => {
      project = await makeProject();
      await project.write("job.sh", "echo never\n");
      await project.write("big.secret", randomBytes(200_000).toString("hex"));
      const remote = `launch-bigsecret-${unique}`;
      const result = await offload(project, [
        "run",
        "--host",
        `${host}/${remote}`,
        "--secret",
        "BIG=@big.secret",
        "--",
        "sh",
        "job.sh",
      ]);
      expect(result.code).toBe(200);
      expect(result.stderr).toContain("E_SECRET");
      expect(result.stderr).toContain("Argument list too long");
      expect(result.stdout).not.toContain("never");
      expect(await inHost(`find /root/${remote} -name secrets.sh 2>/dev/null; true`)).toBe("");
    });

    it("runs with PATH=/nonexistent, says what it did, and leaves no secret file", async () => {
      project = await makeProject();
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, not a template
      await project.write("job.sh", 'printf "token has %s chars\\n" "${#TOK}"\n');
      const remote = `launch-path-${unique}`;
      const result = await offload(
        project,
        [
          "run",
          "--host",
          `${host}/${remote}`,
          "-e",
          "PATH=/nonexistent",
          "--secret",
          "TOK",
          "--",
          "sh",
          "job.sh",
        ],
        { TOK: "abcdefghij" },
      );
      expect(result.stdout).toContain("the PATH given to the run (/nonexistent) has no sh");
      expect(result.stdout).toContain("token has 10 chars");
      expect(result.code).toBe(0);
      const [id] = await project.runIds();
      expect(await project.record(id ?? "")).toMatchObject({ status: "succeeded", exitCode: 0 });
      expect(await inHost(`find /root/${remote} -name 'secrets.sh' -o -name exit.tmp`)).toBe("");
      expect(await inHost(`cat /root/${remote}/.offload/runs/${id}/exit`)).toBe("0\n");
    });

    it("keeps the real status of a job that fills the disk, and says the disk is full", async () => {
      project = await makeProject();
      const remote = `launch-diskfull-${unique}`;
      // A 1 MiB file system of its own inside the host (its mount namespace), used as the remote dir.
      await inHost(`mkdir -p /root/${remote} && mount -t tmpfs -o size=1m tmpfs /root/${remote}`);
      try {
        await project.write(
          "job.sh",
          "echo filling\nhead -c 4000000 /dev/zero > fill.bin\necho after the fill\nexit 3\n",
        );
        const result = await offload(project, [
          "run",
          "--host",
          `${host}/${remote}`,
          "--",
          "sh",
          "job.sh",
        ]);
        expect(result.stderr).toContain(
          `file system of /root/${remote} on ${host}/${remote} is full`,
        );
        expect(result.code).toBe(3);
        const [id] = await project.runIds();
        expect(await project.record(id ?? "")).toMatchObject({
          status: "failed",
          exitCode: 3,
          error: { code: "E_DISK_FULL" },
        });
      } finally {
        await inHost(`umount /root/${remote}; rmdir /root/${remote}`);
      }
    });

    it("settles a record left `launching` by an offload killed mid-launch", async () => {
      project = await makeProject();
      await project.write("job.sh", "echo job ran\n");
      // A secret of 120 KB: the host reads it a byte a call (dd bs=1), which holds the launch open.
      const token = "t".repeat(120_000);
      const remote = `launch-killed-${unique}`;
      let pid = 0;
      const running = runCli(
        [
          "run",
          "--ssh-config",
          bed.sshConfig,
          "--host",
          `${host}/${remote}`,
          "--secret",
          "TOK",
          "--",
          "sh",
          "job.sh",
        ],
        { cwd: project.dir, env: { TOK: token }, onSpawn: (p) => (pid = p) },
      );
      let status: string | undefined;
      for (let i = 0; i < 4000 && status === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const [id] = await project.runIds();
        if (id === undefined) continue;
        status = await project.record(id).then(
          (record) => (record.status === "launching" ? record.status : undefined),
          () => undefined,
        );
      }
      process.kill(pid, "SIGKILL");
      await running;
      expect(status).toBe("launching");
      const [id] = await project.runIds();
      expect((await project.record(id ?? "")).status).toBe("launching");
      const attached = await offload(project, ["attach", id ?? ""]);
      const record = await project.record(id ?? "");
      // Either the host had started it (then it is followed to its end) or it confirms nothing ran.
      if (attached.code === 0) {
        expect(record).toMatchObject({ status: "succeeded", exitCode: 0 });
        expect((await project.localLog(id ?? "")).toString()).toBe("job ran\n");
      } else {
        expect(attached.code).toBe(200);
        expect(attached.stderr).toContain("never started");
        expect(record).toMatchObject({ status: "error", error: { code: "E_LAUNCH" } });
      }
    });
  },
  { netns: true },
);
