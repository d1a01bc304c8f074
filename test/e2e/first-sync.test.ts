// A first sync into an empty remote dir streams a tar; later syncs go with rsync. Whichever path a sync
// takes, the remote dir ends the same: modes, mtimes to the nanosecond, symlinks, hard links, empty
// folders, ignore rules and hostile names, compared entry by entry with what rsync alone makes.
import { execFileSync } from "node:child_process";
import { chmod, link, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { jsonLines, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects) await project.remove();
  projects = [];
});

const HOSTILE = [
  "with space.txt",
  "it's.txt",
  "$(touch pwned).txt",
  "new\nline.txt",
  "-rf",
  "ünïcødé ✓.txt",
  "back\\slash.txt",
  "[weird]*name?.txt",
];

/** A workspace with what a sync must carry exactly, and what it must leave out. */
async function makeWorkspace(): Promise<TempProject> {
  const p = await makeProject();
  projects.push(p);
  await p.write(".gitignore", "secret*\nbuild/\n");
  await p.write("sub/.gitignore", "*.log\n");
  for (const file of ["keep.py", "secret.key", "build/out.bin", "sub/kept.txt", "sub/noise.log"])
    await p.write(file, `${file}\n`);
  for (const name of HOSTILE) await p.write(`data/${name}`, `content of ${name}\n`);
  await p.write("run.sh", "#!/bin/sh\necho ran\n");
  await chmod(join(p.dir, "run.sh"), 0o755);
  await p.write("private.txt", "mine\n");
  await chmod(join(p.dir, "private.txt"), 0o600);
  await mkdir(join(p.dir, "empty"));
  await p.write("closed/inside.txt", "inside\n");
  await chmod(join(p.dir, "closed"), 0o700);
  await p.write("readonly/file.txt", "ro\n");
  await chmod(join(p.dir, "readonly"), 0o555);
  await symlink("keep.py", join(p.dir, "relative-link"));
  await symlink("/nonexistent/target", join(p.dir, "dangling-link"));
  await link(join(p.dir, "keep.py"), join(p.dir, "hard-link.py"));
  return p;
}

describeWithHosts(1, "first sync into an empty remote dir", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const ssh = (command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, host, command]).toString();
  const run = (p: TempProject, dir: string) =>
    runCli(
      ["run", "--json", "--ssh-config", bed.sshConfig, "--host", `${host}/${dir}`, "--", "true"],
      { cwd: p.dir, env: { HOME: p.home, XDG_CONFIG_HOME: `${p.home}/config` } },
    );
  const synced = (stdout: string) => jsonLines(stdout).find((event) => event.type === "synced");
  /** Every entry but offload's own with its type, symlink target, mode, mtime (ns), size and link
   * count, then each file's hash; offload.yaml differs on purpose (the tool) and is left out. */
  const fingerprint = (dir: string) =>
    ssh(
      `cd ${dir} && find . -path ./.offload -prune -o -path ./offload.yaml -prune -o -exec stat -c '%N %F %a %.9Y %s %h' {} + | sort && find . -path ./.offload -prune -o -path ./offload.yaml -prune -o -type f -exec sha256sum {} + | sort`,
    );

  it("goes with tar, the next with rsync, and leaves the remote dir as rsync alone does", async () => {
    const p = await makeWorkspace();
    const auto = `first-sync-auto-${process.pid}`;
    const plain = `first-sync-rsync-${process.pid}`;
    ssh(`rm -rf ${auto} ${plain}`);
    // Same size both times, overwritten in place: the root's mtime stays as it was.
    await writeFile(join(p.dir, "offload.yaml"), "sync: { tool: auto  }\n");

    const first = await run(p, auto);
    expect(first.code, first.stderr).toBe(0);
    expect(synced(first.stdout)).toMatchObject({ tool: "tar", scanned: 20 });
    const second = await run(p, auto);
    expect(second.code, second.stderr).toBe(0);
    // rsync finds nothing to send: tar left every mode and mtime as rsync compares them.
    expect(synced(second.stdout)).toMatchObject({ tool: "rsync", transferred: 0 });

    await writeFile(join(p.dir, "offload.yaml"), "sync: { tool: rsync }\n");
    const byRsync = await run(p, plain);
    expect(byRsync.code, byRsync.stderr).toBe(0);
    expect(synced(byRsync.stdout)).toMatchObject({ tool: "rsync" });
    // tar reports no size: the files' own sizes stand in, the total rsync gives for the same files.
    expect(synced(first.stdout).bytes).toBeGreaterThan(0);
    expect(synced(first.stdout).bytes).toBe(synced(byRsync.stdout).bytes);

    const expected = fingerprint(plain);
    expect(expected).toContain("'./data/$(touch pwned).txt'");
    expect(expected).toContain("'./readonly' directory 555");
    expect(expected).not.toContain("secret");
    expect(fingerprint(auto)).toBe(expected);
    expect(ssh(`ls -a ${auto}`)).not.toContain("pwned");
    ssh(`chmod -R u+w ${auto} ${plain}; rm -rf ${auto} ${plain}`);
  });

  it("takes rsync into a remote dir that already holds something, and leaves that alone", async () => {
    const p = await makeWorkspace();
    const dir = `first-sync-full-${process.pid}`;
    ssh(`rm -rf ${dir}; mkdir -p ${dir} && echo theirs > ${dir}/.theirs`);
    const first = await run(p, dir);
    expect(first.code, first.stderr).toBe(0);
    expect(synced(first.stdout)).toMatchObject({ tool: "rsync" });
    expect(ssh(`cat ${dir}/.theirs ${dir}/keep.py`)).toBe("theirs\nkeep.py\n");
    ssh(`chmod -R u+w ${dir}; rm -rf ${dir}`);
  });
});
