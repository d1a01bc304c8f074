// A host that stops answering is given up after `ssh.connect_timeout`, on every path to a first
// answer, and the error says how long it waited: a cold connect, and a ControlMaster left over a link
// that died since (which, unbounded, holds a new session until its keepalives give up).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import {
  cutLink,
  describeWithHosts,
  dropHost,
  healLink,
  leaseFaultHost,
  undropHost,
} from "../testbed/index.js";

let project: TempProject | undefined;
let controlDir: string | undefined;
afterEach(async () => {
  await project?.remove();
  if (controlDir) rmSync(controlDir, { recursive: true, force: true });
  project = controlDir = undefined;
});

describeWithHosts(
  4,
  "a host that stops answering",
  (bed) => {
    // Each test leases a fault host: a cut there disturbs no other file's runs.
    let host = "";
    let remote = "";
    const lease = async () => {
      host = await leaseFaultHost();
      remote = `${host}/offload-unreachable-${process.pid}`;
    };
    // A control dir of its own: the master this test leaves over a cut link is no other test's.
    const offload = (p: TempProject, args: string[]) =>
      runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        env: { HOME: p.home, OFFLOAD_CONTROL_DIR: controlDir },
      });
    const settings = "ssh:\n  connect_timeout: 3\n  keepalive: 10\n";
    const expectGaveUp = (result: { code: number; stderr: string }) => {
      expect(result.stderr).toMatch(
        new RegExp(
          `error E_HOST_UNREACHABLE: Can't reach ${host}\\S*: .*timed out.*\\(waited 3 s: ssh\\.connect_timeout\\)`,
        ),
      );
      expect(result.stderr).toContain("raise `ssh.connect_timeout`");
      expect(result.code).toBe(200);
    };

    it("over a master left from an earlier run: run and check give up after the connect timeout", async () => {
      await lease();
      project = await makeProject();
      controlDir = mkdtempSync(join(tmpdir(), "offload-ctl-"));
      await project.write("offload.yaml", settings);
      const warm = await offload(project, ["run", "--host", remote, "--", "true"]);
      expect(warm.code).toBe(0);
      let run: Awaited<ReturnType<typeof offload>>;
      let check: Awaited<ReturnType<typeof offload>>;
      try {
        // Cut before each (idempotent): the run before the check must not have healed it.
        await cutLink(host);
        run = await offload(project, ["run", "--host", remote, "--", "true"]);
        await cutLink(host);
        check = await offload(project, ["check", "--host", remote]);
      } finally {
        await healLink(host);
      }
      expectGaveUp(run);
      expectGaveUp(check);
      // The dead master was retired: with the link back, the next run connects afresh.
      const after = await offload(project, ["run", "--host", remote, "--", "echo", "back"]);
      expect(after.stdout).toBe("back\n");
      expect(after.code).toBe(0);
    });

    it("cold, to a host whose packets are dropped: the same error, the same wait", async () => {
      await lease();
      project = await makeProject();
      controlDir = mkdtempSync(join(tmpdir(), "offload-ctl-"));
      await project.write("offload.yaml", settings);
      let run: Awaited<ReturnType<typeof offload>>;
      let check: Awaited<ReturnType<typeof offload>>;
      try {
        await dropHost(host);
        run = await offload(project, ["run", "--host", remote, "--", "true"]);
        await dropHost(host);
        check = await offload(project, ["check", "--host", remote]);
      } finally {
        await undropHost(host);
      }
      expectGaveUp(run);
      expectGaveUp(check);
      expect(await project.runIds()).toEqual([]);
    });
  },
  { netns: true },
);
