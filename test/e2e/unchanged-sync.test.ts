// An unchanged workspace is not synced again, on a real OpenSSH host: the host proves in the prepare
// round trip that nothing it received has changed, this machine that nothing here has; any change on
// either side, or another workspace syncing the same remote dir, brings rsync back.
import { execFileSync } from "node:child_process";
import { chmod, utimes } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects) await project.remove();
  projects = [];
});

async function newProject(): Promise<TempProject> {
  const project = await makeProject();
  projects.push(project);
  await project.write("train.py", "print('v1')\n");
  await project.write("data/a.txt", "alpha\n");
  return project;
}

describeWithHosts(1, "a run whose workspace is unchanged", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const ssh = (command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, host, command]).toString();
  /** A run with OFFLOAD_TRACE: whether it synced (started rsync, or tar for a first sync; a version
   * probe is no sync, and is cached besides) is in its time line on stderr. */
  const run = async (p: TempProject, dir: string, command: string[]) => {
    const result = await runCli(
      ["run", "--ssh-config", bed.sshConfig, "--host", `${host}/${dir}`, "--", ...command],
      {
        cwd: p.dir,
        env: { HOME: p.home, XDG_CONFIG_HOME: `${p.home}/config`, OFFLOAD_TRACE: "1" },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    return { ...result, synced: /^trace .* (rsync|tar) … (?!--version)/m.test(result.stderr) };
  };
  /** Two runs: the first syncs (by tar, into the empty dir), the second finds the first's writes newer than its stamp and syncs (a
   * no-op) again; from the third on nothing changed since a stamp. */
  const settle = async (p: TempProject, dir: string) => {
    expect((await run(p, dir, ["true"])).synced).toBe(true);
    expect((await run(p, dir, ["true"])).synced).toBe(true);
  };

  it("sends nothing, and the job sees the files as they were synced", async () => {
    const p = await newProject();
    const dir = `/root/unchanged-${process.pid}-a`;
    try {
      await settle(p, dir);
      const third = await run(p, dir, ["cat", "train.py", "data/a.txt"]);
      expect(third.synced).toBe(false);
      expect(third.stdout).toContain("print('v1')\nalpha\n");
      expect((await run(p, dir, ["true"])).synced).toBe(false);
    } finally {
      ssh(`rm -rf ${dir}`);
    }
  });

  it("syncs again after a change here: content, mtime alone, mode, a new file", async () => {
    const p = await newProject();
    const dir = `/root/unchanged-${process.pid}-b`;
    try {
      await settle(p, dir);
      await p.write("train.py", "print('v2')\n");
      const edited = await run(p, dir, ["cat", "train.py"]);
      expect(edited.synced).toBe(true);
      expect(edited.stdout).toContain("print('v2')");

      for (const change of [
        () => utimes(join(p.dir, "data/a.txt"), new Date(2001, 1, 1), new Date(2001, 1, 1)),
        () => chmod(join(p.dir, "train.py"), 0o700),
        () => p.write("new.py", "new\n"),
      ]) {
        await run(p, dir, ["true"]); // settles the stamp after the last sync's writes
        await change();
        expect((await run(p, dir, ["true"])).synced).toBe(true);
      }
      expect(ssh(`stat -c %a ${dir}/train.py`).trim()).toBe("700");
      expect(ssh(`cat ${dir}/new.py`)).toBe("new\n");
    } finally {
      ssh(`rm -rf ${dir}`);
    }
  });

  it("syncs again after a change there: an edit, a chmod, a deleted file, another workspace's sync", async () => {
    const p = await newProject();
    const dir = `/root/unchanged-${process.pid}-c`;
    try {
      await settle(p, dir);
      ssh(`printf 'edited there\\n' > ${dir}/train.py`);
      const restored = await run(p, dir, ["cat", "train.py"]);
      expect(restored.synced).toBe(true);
      expect(restored.stdout).toContain("print('v1')");
      expect(restored.stdout).not.toContain("edited there");

      await run(p, dir, ["true"]);
      ssh(`chmod 600 ${dir}/data/a.txt`);
      expect((await run(p, dir, ["true"])).synced).toBe(true);
      expect(ssh(`stat -c %a ${dir}/data/a.txt`).trim()).toBe("644");

      await run(p, dir, ["true"]);
      ssh(`rm ${dir}/data/a.txt`);
      const back = await run(p, dir, ["cat", "data/a.txt"]);
      expect(back.synced).toBe(true);
      expect(back.stdout).toContain("alpha");

      // Another workspace syncs its own train.py there: this one's next run must put its own back.
      await run(p, dir, ["true"]);
      const other = await newProject();
      await other.write("train.py", "print('other')\n");
      expect((await run(other, dir, ["true"])).synced).toBe(true);
      const mine = await run(p, dir, ["cat", "train.py"]);
      expect(mine.synced).toBe(true);
      expect(mine.stdout).toContain("print('v1')");
    } finally {
      ssh(`rm -rf ${dir}`);
    }
  });
});
