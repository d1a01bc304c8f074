// A job that fills its remote dir's disk (a 512 KiB tmpfs on a leased fault host) and still exits 0: the
// log holds only the job's own lines (offload's launcher wrote `launch.sh: printf: I/O error` there when
// it could not stamp the job's end), and the run says the disk is full, on the terminal and in its
// record (E_DISK_FULL), with what to do. It was recorded as a plain success.
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, execInHost, leaseFaultHost } from "../testbed/index.js";

let project: TempProject | undefined;
let mounted: { host: string; dir: string } | undefined;
afterEach(async () => {
  if (mounted !== undefined)
    await execInHost(mounted.host, [
      "sh",
      "-c",
      `umount -l ${mounted.dir} && rmdir ${mounted.dir}`,
    ]);
  mounted = undefined;
  await project?.remove();
  project = undefined;
});

describeWithHosts(
  3,
  "a job that fills its remote disk",
  (bed) => {
    it("keeps offload's own lines out of the job's log and reports the full disk", async () => {
      const host = await leaseFaultHost();
      const disk = `/root/offload-full-${process.pid}`;
      const made = await execInHost(host, [
        "sh",
        "-c",
        `mkdir -p ${disk} && mount -t tmpfs -o size=512k tmpfs ${disk}`,
      ]);
      expect(made.code, made.stderr).toBe(0);
      mounted = { host, dir: disk };
      project = await makeProject();
      // `head` fails on the full disk; the job goes on and exits 0, as a careless script would.
      await project.write(
        "job.sh",
        "echo start\nhead -c 2000000 /dev/zero > fill.bin\necho after fill\n",
      );
      const result = await runCli(
        [
          "run",
          "--ssh-config",
          bed.sshConfig,
          "--host",
          `${host}/${disk}/work`,
          "--",
          "sh",
          "job.sh",
        ],
        { cwd: project.dir, env: { HOME: project.home } },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`The file system of ${disk}/work on ${host}`);
      expect(result.stderr).toContain(
        "is full: the job's output, files and status may be cut short",
      );
      expect(result.stderr).toContain("Free space there");
      const [id = ""] = await project.runIds();
      const log = (await project.localLog(id)).toString();
      expect(log).toMatch(/^start\nhead: .*No space left on device\nafter fill\n$/);
      const record = await project.record(id);
      expect(record.status).toBe("succeeded");
      expect(record.error?.code).toBe("E_DISK_FULL");
    });
  },
  { netns: true },
);
