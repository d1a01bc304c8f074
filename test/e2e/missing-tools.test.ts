// A machine without ssh or rsync, or with a control-socket dir that is not private: each is the user's to
// fix and gets its own error with a hint, never "offload hit a bug" (exit 250).
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { pathWithout, type ReducedPath } from "../support/path.js";
import { makeProject, REPO, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

const BIN = join(REPO, "bin", "offload.js");
const built = existsSync(join(REPO, "dist", "offload.cjs"));
if (!built)
  process.stderr.write("[missing-tools] skipping: dist/offload.cjs is missing (npm run build)\n");
const isRoot = process.getuid?.() === 0;

let project: TempProject | undefined;
let reduced: ReducedPath | undefined;
let controlParent: string | undefined;
afterEach(async () => {
  await project?.remove();
  reduced?.remove();
  if (controlParent) rmSync(controlParent, { recursive: true, force: true });
  project = reduced = controlParent = undefined;
});

/** The installed CLI, as a user's shell starts it, with the given environment on top of ours. */
function runBuilt(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A fresh parent for the control dir, with `offload-<uid>` made in it as a test wants it. */
function controlDirAt(mode: number, owner?: number): { parent: string; dir: string } {
  controlParent = mkdtempSync(join(tmpdir(), "offload-ctl-"));
  const dir = join(controlParent, `offload-${process.getuid?.() ?? 0}`);
  mkdirSync(dir);
  chmodSync(dir, mode);
  if (owner !== undefined) chownSync(dir, owner, owner);
  return { parent: controlParent, dir };
}

describe.skipIf(!built)("the built CLI on a machine that lacks what ssh needs", () => {
  it("says that ssh is missing and how to install it (E_SSH_MISSING, exit 200)", async () => {
    project = await makeProject();
    reduced = pathWithout(["ssh"]);
    for (const args of [
      ["check", "--host", "gpu-box"],
      ["run", "--host", "me@gpu-box:2222", "--", "true"],
    ]) {
      const result = await runBuilt(args, project.dir, { PATH: reduced.path, HOME: project.home });
      expect(result.stderr).toContain("error E_SSH_MISSING: `ssh` was not found on this machine");
      expect(result.stderr).toMatch(/hint: Install the OpenSSH client .*openssh-client.*PATH/);
      expect(result.stderr).not.toContain("offload hit a bug");
      expect(result.code).toBe(200);
    }
    expect(await project.runIds()).toEqual([]);
  });

  it("refuses a control dir others can open, naming it, the mode and the fix (E_SSH, exit 200)", async () => {
    project = await makeProject();
    const { parent, dir } = controlDirAt(0o777);
    const result = await runBuilt(["run", "--host", "gpu-box", "--", "true"], project.dir, {
      OFFLOAD_CONTROL_DIR: parent,
      HOME: project.home,
    });
    expect(result.stderr).toContain(`error E_SSH: ${dir} has mode 777`);
    expect(result.stderr).toContain("needs mode 700");
    expect(result.stderr).toContain(
      `hint: Remove it so offload makes it afresh (\`rm -rf ${dir}\`)`,
    );
    expect(result.code).toBe(200);
  });

  it.skipIf(!isRoot)(
    "refuses a control dir owned by someone else, naming the owner and the fix",
    async () => {
      project = await makeProject();
      const { parent, dir } = controlDirAt(0o700, 65534);
      const result = await runBuilt(["check", "--host", "gpu-box"], project.dir, {
        OFFLOAD_CONTROL_DIR: parent,
        HOME: project.home,
      });
      expect(result.stderr).toContain(`error E_SSH: ${dir} is owned by uid 65534`);
      expect(result.stderr).toContain("owned by you (uid 0) with mode 700");
      expect(result.stderr).toContain("OFFLOAD_CONTROL_DIR");
      expect(result.code).toBe(200);
    },
  );
});
if (!isRoot)
  process.stderr.write("[missing-tools] skipping the other-owner control dir test: needs root\n");

describeWithHosts(1, "a machine without rsync, against a host that has it", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const offload = (p: TempProject, args: string[], path: string) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd: p.dir,
      env: { PATH: path, HOME: p.home },
    });

  it("syncs with tar on auto, and explains a required rsync (E_SYNC, exit 200)", async () => {
    project = await makeProject();
    await project.write("data/a b.txt", "hello\n");
    reduced = pathWithout(["rsync"]);
    const remote = `offload-norsync-${process.pid}`;
    const auto = await offload(
      project,
      ["run", "--host", `${host}/${remote}`, "--", "cat", "data/a b.txt"],
      reduced.path,
    );
    expect(auto.stderr).not.toContain("offload hit a bug");
    expect(auto.stdout).toBe("hello\n");
    expect(auto.code).toBe(0);
    const [id = ""] = await project.runIds();
    expect((await project.record(id)).sync?.tool).toBe("tar");

    await project.write("offload.yaml", "sync:\n  tool: rsync\n");
    const forced = await offload(
      project,
      ["run", "--host", `${host}/${remote}`, "--", "true"],
      reduced.path,
    );
    expect(forced.stderr).toContain("error E_SYNC: `rsync` was not found on this machine");
    expect(forced.stderr).toContain("tool: tar");
    expect(forced.code).toBe(200);
  });
});
