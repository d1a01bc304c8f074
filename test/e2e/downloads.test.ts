// Downloads on the test bed: remote symlinks never reach a local file, a dropped link is survived or
// reported, and a SIGKILLed offload leaves no child and (after the next command) no temp file.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import {
  describeWithHosts,
  dropHost,
  leaseFaultHost,
  slowHostSending,
  slowLink,
  undropHost,
  unslowHostSending,
  unslowLink,
} from "../testbed/index.js";

let project: TempProject | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await project?.remove();
  project = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 100 ms until it holds or `bound` ms passed; returns its last answer. */
async function waitFor(check: () => boolean | Promise<boolean>, bound: number): Promise<boolean> {
  for (let waited = 0; waited < bound; waited += 100) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

/** Local processes (this machine's pid space) whose command line mentions `marker`. */
function localProcesses(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (cmdline.includes(marker) && !/\) Z /.test(state))
        found.push(`${pid}: ${cmdline.replaceAll("\0", " ")}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Local processes holding a file below `dir` open: who would still be writing a download there. */
function processesWritingIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith(`${dir}/`))
          found.push(
            `${pid} (${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")}): ${target}`,
          );
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Every path below `dir`, with symlinks marked, for "no symlink arrived" checks. */
async function walk(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of names) {
    const info = await lstat(join(dir, name));
    out.push(info.isSymbolicLink() ? `${name} -> (symlink)` : name);
  }
  return out.sort();
}

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describeWithHosts(3, "downloads", (bed) => {
  const [calm = "offload-h1"] = bed.hosts;
  /** The fault host the current test leased (each test that throttles or drops leases its own). */
  let faulty = "";
  const offload = (
    p: TempProject,
    args: string[],
    extra: Partial<Parameters<typeof runCli>[1]> = {},
  ) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd: p.dir,
      ...extra,
    });
  const sshOut = (host: string, command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, "-o", "ConnectTimeout=5", host, command]);

  /** Caps what the host sends (the download direction) until the test ends. */
  async function throttleDownloads(host: string, rate: string): Promise<void> {
    await slowHostSending(host, rate, { burst: "64kbit" });
    cleanups.push(() => unslowHostSending(host));
  }

  for (const tool of ["rsync", "tar"] as const) {
    it(`never follows a remote symlink into a local file (${tool})`, async () => {
      project = await makeProject();
      if (tool === "tar") await project.write("offload.yaml", "sync:\n  tool: tar\n");
      // A file that exists at the same path on this machine and on the host (the file system is shared
      // outside /tmp and ~): what a symlink on the host would make a careless download read here.
      const secretDir = await mkdtemp("/var/tmp/offload-secret-");
      cleanups.push(() => rm(secretDir, { recursive: true, force: true }));
      const secret = join(secretDir, "secret.txt");
      await writeFile(secret, "TOP SECRET\n");
      const job = [
        `ln -s ${secret} res.txt`,
        "ln -s /etc lnk",
        "mkdir -p out",
        "echo ok > out/real.txt",
        `ln -s ${secret} out/leak.txt`,
      ].join(" && ");
      const result = await offload(project, [
        "run",
        "--host",
        `${calm}/dl-links-${tool}-${process.pid}`,
        "--download",
        "res.txt|res_local.txt",
        "--download",
        "res.txt",
        "--download",
        "lnk/passwd",
        "--download",
        "lnk/*",
        "--download",
        "lnk/passwd|passwd_local.txt",
        "--download",
        "out/*",
        "--",
        "sh",
        "-c",
        job,
      ]);
      expect(result.code, result.stderr).toBe(0);
      const [id = ""] = await project.runIds();
      const record = await project.record(id);
      expect(record.artifacts).toEqual(["out/real.txt"]);
      expect(record.mappedFiles).toEqual([]);
      expect(await walk(join(project.dir, ".offload/runs", id, "artifacts"))).toEqual([
        "out",
        "out/real.txt",
      ]);
      const top = await readdir(project.dir);
      expect(top).not.toContain("res_local.txt");
      expect(top).not.toContain("passwd_local.txt");
      expect(result.stderr).toContain("symlinks not followed");
      for (const rule of ["res.txt", "lnk/passwd", "lnk", "out/leak.txt"])
        expect(result.stderr).toContain(`\`${rule}\``);
    });
  }

  it("reports a rule given twice once", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "download:\n  - nothing.txt\n");
    const result = await offload(project, [
      "run",
      "--host",
      `${calm}/dl-dedupe-${process.pid}`,
      "--download",
      "nothing.txt",
      "--download",
      "./nothing.txt",
      "--",
      "true",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.split("`nothing.txt`").length - 1).toBe(1);
  });

  /** A run whose job writes `mb` MiB of random bytes to big.bin, with downloads capped to `rate`. */
  async function startBigDownload(
    name: string,
    mb: number,
    reconnectTimeout: number,
    rate = "80mbit",
  ) {
    project = await makeProject();
    await project.write(
      "offload.yaml",
      `ssh:\n  keepalive: 1\n  connect_timeout: 5\nreconnect:\n  timeout: ${reconnectTimeout}\n`,
    );
    const remote = `dl-${name}-${process.pid}-${Date.now()}`;
    faulty = await leaseFaultHost();
    await throttleDownloads(faulty, rate);
    let events = "";
    let pid = 0;
    let ended: string | undefined;
    const running = offload(
      project,
      [
        "run",
        "--json",
        "--host",
        `${faulty}/${remote}`,
        "--download",
        "big.bin",
        "--",
        "sh",
        "-c",
        `head -c ${mb * 1024 * 1024} /dev/urandom > big.bin`,
      ],
      {
        timeoutMs: 200_000,
        onSpawn: (p) => {
          pid = p;
        },
        onStdout: (text) => {
          events += text;
        },
      },
    ).then((result) => {
      ended = `offload ended (${result.code}):\n${result.stderr}`;
      return result;
    });
    const seen = (type: string) => events.includes(`"type":"${type}"`);
    /** Waits for the download to start; on failure, says what the run printed instead. */
    const started = async () => {
      const ok = await waitFor(() => seen("downloading") || ended !== undefined, 60_000);
      const said = `no download started; events so far:\n${events.slice(-3000)}\n${ended ?? ""}`;
      expect(ok && seen("downloading"), said).toBe(true);
    };
    return { running, remote, seen, started, pid: () => pid, dir: project.dir };
  }

  async function artifactFiles(p: TempProject, id: string): Promise<string[]> {
    return readdir(join(p.dir, ".offload/runs", id, "artifacts"), { recursive: true });
  }

  it("resumes a download after the host drops off, and brings the whole file home", async () => {
    const big = await startBigDownload("resume", 100, 60);
    cleanups.push(() => undropHost(faulty));
    await big.started();
    await sleep(1500);
    await dropHost(faulty);
    const noticed = await waitFor(() => big.seen("reconnecting"), 30_000);
    await undropHost(faulty);
    const result = await big.running;
    expect(noticed, `${result.code}\n${result.stdout.slice(-3000)}\n${result.stderr}`).toBe(true);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("resuming the download");
    const [id = ""] = project ? await project.runIds() : [];
    const record = await project?.record(id);
    expect(record?.error).toBeUndefined();
    expect(record?.artifacts).toEqual(["big.bin"]);
    const local = await readFile(join(big.dir, ".offload/runs", id, "artifacts/big.bin"));
    const remote = sshOut(faulty, `sha256sum ${record?.target.remoteDir}/big.bin`).toString();
    expect(local.length).toBe(100 * 1024 * 1024);
    expect(remote.split(" ")[0]).toBe(sha(local));
    expect(await artifactFiles(project as TempProject, id)).toEqual(["big.bin"]);
  }, 240_000);

  it("a download that cannot finish makes the run exit 205 and says so; attach fetches it later", async () => {
    const big = await startBigDownload("giveup", 100, 3);
    cleanups.push(() => undropHost(faulty));
    await big.started();
    await sleep(1500);
    await dropHost(faulty);
    const result = await big.running;
    await undropHost(faulty);
    expect(result.code, result.stderr).toBe(205);
    expect(result.stdout).toContain("offload attach");
    const p = project as TempProject;
    const [id = ""] = await p.runIds();
    const record = await p.record(id);
    expect(record).toMatchObject({
      status: "succeeded",
      exitCode: 0,
      error: { code: "E_DOWNLOAD" },
    });

    await unslowAll();
    const attached = await offload(p, ["attach", id]);
    expect(attached.code, attached.stderr).toBe(0);
    const again = await p.record(id);
    expect(again.error).toBeUndefined();
    expect(again.artifacts).toEqual(["big.bin"]);
    expect(await artifactFiles(p, id)).toEqual(["big.bin"]);
  }, 240_000);

  async function unslowAll(): Promise<void> {
    await unslowHostSending(faulty).catch(() => {});
  }

  it("a SIGKILLed offload leaves no ssh writing its download, and the next command collects the temp file", async () => {
    // 2 MB/s: the download would take 50 s, far longer than the wait below.
    const big = await startBigDownload("kill", 100, 60, "16mbit");
    const p = project as TempProject;
    await big.started();
    const [id = ""] = await p.runIds();
    const artifacts = join(p.dir, ".offload/runs", id, "artifacts");
    const temp = () =>
      readdir(artifacts).then(
        (names) => names.filter((name) => name.includes(".offload-")),
        () => [] as string[],
      );
    expect(await waitFor(async () => (await temp()).length > 0, 30_000)).toBe(true);
    process.kill(big.pid(), "SIGKILL");
    await big.running;
    // The guardian TERMs the children at once and KILLs them a second later.
    await waitFor(() => processesWritingIn(artifacts).length === 0, 10_000);
    expect(processesWritingIn(artifacts).join("\n")).toBe("");
    const left = await temp();
    expect(left.length).toBe(1);
    const size = (await lstat(join(artifacts, left[0] ?? ""))).size;
    await sleep(1000);
    expect((await lstat(join(artifacts, left[0] ?? ""))).size).toBe(size);

    await unslowAll();
    const attached = await offload(p, ["attach", id]);
    expect(attached.code, attached.stderr).toBe(0);
    expect(await temp()).toEqual([]);
    expect(await artifactFiles(p, id)).toEqual(["big.bin"]);
  }, 240_000);

  // auto: a first sync into an empty dir goes as a tar stream over ssh, whose command names the dir.
  it.each([
    ["rsync", "rsync"],
    ["auto", "tar -xpf"],
  ])(
    "a SIGKILLed offload leaves nothing uploading (sync.tool %s: %s)",
    async (setting, seen) => {
      project = await makeProject();
      await project.write("offload.yaml", `sync:\n  tool: ${setting}\n`);
      await project.write("data.bin", Buffer.alloc(60 * 1024 * 1024, 7));
      faulty = await leaseFaultHost();
      await slowLink(faulty, "20mbit");
      cleanups.push(() => unslowLink(faulty));
      let pid = 0;
      const remote = `dl-sync-kill-${process.pid}-${Date.now()}`;
      let ended: string | undefined;
      const running = offload(project, ["run", "--host", `${faulty}/${remote}`, "--", "true"], {
        onSpawn: (p) => {
          pid = p;
        },
      }).then((result) => {
        ended = `offload ended (${result.code}) before its upload was seen:\n${result.stderr}`;
        return result;
      });
      const marker = remote;
      const rsyncs = () => localProcesses(marker).filter((line) => line.includes(seen));
      await waitFor(() => rsyncs().length > 0 || ended !== undefined, 60_000);
      expect(rsyncs().length, ended ?? "no upload seen within 60 s").toBeGreaterThan(0);
      process.kill(pid, "SIGKILL");
      await running;
      await waitFor(() => rsyncs().length === 0, 10_000);
      expect(rsyncs()).toEqual([]);
    },
    120_000,
  );
});
