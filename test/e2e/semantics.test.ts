// What a run does to the remote dir, on a real OpenSSH host: a refused run changes nothing, each project
// has its own remote dir, files deleted here are deleted there (never the job's outputs nor ignored
// paths), and the command runs in the counterpart of the folder offload was started from.
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
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
  return project;
}

describeWithHosts(1, "what a run does to the remote dir", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const ssh = (command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, host, command]).toString();
  const offload = (p: TempProject, args: string[], cwd = p.dir) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd,
      env: { HOME: p.home, XDG_CONFIG_HOME: `${p.home}/config` },
    });
  /** Every entry of a remote dir with its type, mode, mtime (ns), size and content hash, hashed on the host. */
  // machine.txt is the running holder's sampler at work (made at its launch, appended since).
  const fingerprint = (dir: string) =>
    ssh(
      `cd ${dir} && find . ! -name machine.txt -exec stat -c '%n %F %a %.9Y %s' {} + | sort && find . -type f ! -name machine.txt -exec sha256sum {} + | sort`,
    );

  it("a run refused by the lock changes no byte of the remote dir, from this project or another", async () => {
    const mine = await newProject();
    const dir = `/root/semantics-lock-${process.pid}`;
    await mine.write("train.py", "v1\n");
    const marker = `sleep 9${process.pid % 1000}7`;
    const first = await offload(mine, [
      "run",
      "--no-wait",
      "--host",
      `${host}/${dir}`,
      "--",
      marker,
    ]);
    expect(first.code, first.stderr).toBe(0);
    const firstId = first.stdout.trim();
    const before = fingerprint(dir);
    expect(before).toContain("./train.py regular file");

    await mine.write("train.py", "v2\n");
    await mine.write("new.py", "new\n");
    const refused = await offload(mine, [
      "run",
      "--host",
      `${host}/${dir}`,
      "--",
      "cat",
      "train.py",
    ]);
    expect(refused.code, refused.stderr).toBe(202);
    expect(refused.stderr).toContain("error E_LOCKED");
    expect(refused.stderr).toContain(`in use by run ${firstId} (since `);
    expect(fingerprint(dir)).toBe(before);

    const other = await newProject();
    await other.write("other.py", "another project\n");
    const intruder = await offload(other, ["run", "--host", `${host}/${dir}`, "--", "ls"]);
    expect(intruder.code, intruder.stderr).toBe(202);
    expect(fingerprint(dir)).toBe(before);

    // --force: the holder is stopped first, then the sync brings the new files.
    const forced = await offload(mine, [
      "run",
      "--force",
      "--host",
      `${host}/${dir}`,
      "--",
      "cat",
      "train.py",
      "new.py",
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(`--force: stopped run ${firstId}`);
    expect(forced.stdout).toBe("v2\nnew\n");
    // A run that fails after its sync, before its launch (the host has no GPU) frees the lock: the
    // next run is neither refused nor has to reclaim it.
    const broken = await offload(mine, [
      "run",
      "--host",
      `${host}/${dir}`,
      "--gpus",
      "1",
      "--",
      "true",
    ]);
    expect(broken.stderr).toContain("error E_GPU");
    expect(broken.code, broken.stderr).toBe(200);
    const next = await offload(mine, ["run", "--host", `${host}/${dir}`, "--", "true"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toContain("reclaimed");
    ssh(`rm -rf ${dir}`);
  });

  it("gives two projects whose folders share a name their own remote dirs, the same on every run", async () => {
    const a = await newProject();
    const b = await newProject();
    await a.write("a.txt", "a\n");
    await b.write("b.txt", "b\n");
    const runA = await offload(a, ["run", "--host", host, "--", "ls"]);
    const runB = await offload(b, ["run", "--host", host, "--", "ls"]);
    expect(runA.code, runA.stderr).toBe(0);
    expect(runB.code, runB.stderr).toBe(0);
    expect(runA.stdout).toBe("a.txt\n");
    expect(runB.stdout).toBe("b.txt\n");
    const [idA = ""] = await a.runIds();
    const [idB = ""] = await b.runIds();
    const dirA = (await a.record(idA)).target.remoteDir;
    const dirB = (await b.record(idB)).target.remoteDir;
    expect(dirA).toMatch(/^\/root\/\.offload\/work\/project-[0-9a-f]{8}$/);
    expect(dirB).toMatch(/^\/root\/\.offload\/work\/project-[0-9a-f]{8}$/);
    expect(dirA).not.toBe(dirB);
    await offload(a, ["run", "--host", host, "--", "true"]);
    const ids = await a.runIds();
    expect((await a.record(ids.at(-1) ?? "")).target.remoteDir).toBe(dirA);
    ssh(`rm -rf ${dirA} ${dirB}`);
  });

  // auto: the first sync goes with tar (an empty dir), the second with rsync, one manifest across both.
  it.each(["rsync", "tar", "auto"])(
    "with %s, removes there what was synced and is deleted here, never the job's files nor ignored paths",
    async (tool) => {
      const p = await newProject();
      const dir = `/root/semantics-mirror-${tool}-${process.pid}`;
      await p.write("offload.yaml", `sync: { tool: ${tool} }\n`);
      for (const file of ["keep.py", "gone.py", "old dir/gone 'q'.txt", "cache.bin", "logs/a.log"])
        await p.write(file, `${file}\n`);
      const made = "sh -c 'echo out > out.txt; mkdir -p data && echo made > data/made.csv'";
      const first = await offload(p, ["run", "--host", `${host}/${dir}`, "--", made]);
      expect(first.code, first.stderr).toBe(0);
      const [firstId] = await p.runIds();
      expect((await p.record(firstId ?? "")).sync).toMatchObject({
        tool: tool === "auto" ? "tar" : tool,
      });

      await rm(join(p.dir, "gone.py"));
      await rm(join(p.dir, "old dir"), { recursive: true });
      await rm(join(p.dir, "logs"), { recursive: true });
      // Left out by the rules now: cache.bin is still here, logs/ is gone here too. Both stay there.
      await p.write(".offloadignore", "cache.bin\nlogs/\ndata/\n");
      const list = "find . -path ./.offload -prune -o -print | sort";
      const second = await offload(p, ["run", "--host", `${host}/${dir}`, "--", list]);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toBe(
        [
          ".",
          "./.offloadignore",
          "./cache.bin",
          "./data",
          "./data/made.csv",
          "./keep.py",
          "./logs",
          "./logs/a.log",
          "./offload.yaml",
          "./out.txt",
          "",
        ].join("\n"),
      );
      expect(second.stderr).toContain("2 removed there (deleted here)");
      // Ids order by the second only: two runs within one second may list either way round.
      const id = (await p.runIds()).find((each) => each !== firstId) ?? "";
      expect((await p.record(id)).sync).toMatchObject({
        tool: tool === "auto" ? "rsync" : tool,
        removed: 2,
      });
      ssh(`rm -rf ${dir}`);
    },
  );

  it("runs the command in the remote counterpart of the folder offload ran in", async () => {
    const p = await newProject();
    const dir = `/root/semantics-cwd-${process.pid}`;
    await p.write("offload.yaml", `host: ${host}/${dir}\n`);
    await p.write("a/b/where.py", "print('found')\n");
    await p.write("top.txt", "top\n");
    const result = await offload(
      p,
      ["run", "--", "sh", "-c", "pwd; cat where.py; cat ../../top.txt"],
      join(p.dir, "a", "b"),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${dir}/a/b\nprint('found')\ntop\n`);
    const [id = ""] = await p.runIds();
    expect(await p.record(id)).toMatchObject({ workdir: "a/b", target: { remoteDir: dir } });
    ssh(`rm -rf ${dir}`);
  });
});
