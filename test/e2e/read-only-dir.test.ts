// A remote dir offload cannot write (here a read-only mount on a leased fault host): the run fails before
// anything moves, naming the path that failed (the dir, or `.offload` inside an existing one), why (the
// OS's words: read-only) and what to do. An existing `.offload` there read as a lock held by nobody
// (E_LOCKED, exit 202, "in use by run ;"); a fresh one as "Could not create the remote dir".
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, execInHost, leaseFaultHost } from "../testbed/index.js";

let project: TempProject | undefined;
let mounted: { host: string; dir: string } | undefined;
afterEach(async () => {
  if (mounted !== undefined)
    await execInHost(mounted.host, ["sh", "-c", `umount ${mounted.dir} && rmdir ${mounted.dir}`]);
  mounted = undefined;
  await project?.remove();
  project = undefined;
});

describeWithHosts(
  3,
  "a remote dir on a read-only file system",
  (bed) => {
    let host = "";

    /** A tmpfs on the fault host holding `plain/` and `used/.offload/`, then made read-only. */
    async function readOnlyDisk(): Promise<string> {
      host = await leaseFaultHost();
      const dir = `/root/offload-ro-${process.pid}`;
      const sh = async (script: string) => {
        const result = await execInHost(host, ["sh", "-c", script]);
        expect(result.code, result.stderr).toBe(0);
      };
      await sh(`mkdir -p ${dir} && mount -t tmpfs -o size=1m tmpfs ${dir}`);
      mounted = { host, dir };
      await sh(`mkdir -p ${dir}/plain ${dir}/used/.offload && mount -o remount,ro ${dir}`);
      return dir;
    }

    it("says which path failed, that it is read-only, and what to do (exit 200), for each case", async () => {
      project = await makeProject();
      await project.write("train.py", "print('hi')\n");
      const disk = await readOnlyDisk();
      const run = (dir: string) =>
        runCli(["run", "--ssh-config", bed.sshConfig, "--host", `${host}/${dir}`, "--", "true"], {
          cwd: project?.dir ?? "",
          env: { HOME: project?.home ?? "" },
        });
      const cases = [
        // An existing dir: its .offload could not be made.
        { dir: `${disk}/plain`, failed: `${disk}/plain/.offload`, inside: true },
        // An existing dir with offload's state from before: was E_LOCKED by nobody.
        { dir: `${disk}/used`, failed: `${disk}/used/.offload`, inside: true },
        // A dir to make under a read-only parent.
        { dir: `${disk}/fresh`, failed: `${disk}/fresh`, inside: false },
      ];
      for (const { dir, failed, inside } of cases) {
        const result = await run(dir);
        expect(result.code, result.stderr).toBe(200);
        expect(result.stderr).toContain(
          `error E_SYNC: Could not write ${failed} on ${host}: its file system is read-only: mkdir: cannot create directory`,
        );
        expect(result.stderr).toContain("Read-only file system");
        expect(result.stderr).toContain(
          "hint: Choose a writable remote dir with `remote_dir:` in offload.yaml or `--remote-dir`.",
        );
        expect(result.stderr.includes("keeps the run's lock and state in .offload")).toBe(inside);
        expect(result.stderr).not.toContain("offload-unwritable");
      }
    });
  },
  { netns: true },
);
