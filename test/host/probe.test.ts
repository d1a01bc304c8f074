import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, hostname, machine, tmpdir, totalmem, type } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildProbeScript, parseGpuQuery, parseProbe } from "../../src/host/index.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "nvidia-smi");

let root: string;

beforeEach(() => {
  // A space, a `$` and a quote in the path: the probe must quote what it is given.
  root = realpathSync(mkdtempSync(join(tmpdir(), "offload probe $HOME 'q' ")));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

interface ProbeRun {
  status: number | null;
  stdout: string;
}

/** Runs the probe the way ssh does: the script on stdin of the system's sh (dash here). */
function runProbe(
  remoteDir: string,
  env: NodeJS.ProcessEnv = process.env,
  shell = "/bin/sh",
): ProbeRun {
  const result = spawnSync(shell, ["-s"], {
    input: buildProbeScript(remoteDir),
    cwd: root,
    env,
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout };
}

function which(command: string): string {
  const result = spawnSync("/bin/sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return result.stdout.trim();
}

/** A bin dir holding only the named system commands, to stand for a bare host. */
function makeBin(commands: string[]): string {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  for (const command of commands) {
    const path = which(command);
    if (path === "") throw new Error(`test needs ${command} on this machine`);
    symlinkSync(path, join(bin, command));
  }
  return bin;
}

function writeExecutable(path: string, body: string): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

describe("the probe on this machine", () => {
  it.each(["/bin/sh", "/bin/bash"])("reports the host's facts under %s", (shell) => {
    const run = runProbe(root, process.env, shell);
    expect(run.status).toBe(0);
    const facts = parseProbe(run.stdout);
    expect(facts.os).toBe(type());
    expect(facts.arch).toBe(machine());
    expect(facts.hostname).toBe(hostname());
    expect(facts.cpus).toBe(cpus().length);
    expect(facts.memTotalBytes).toBe(totalmem());
    expect(facts.diskDir).toBe(root);
    expect(facts.diskFreeBytes).toBeGreaterThan(0);
    expect(facts.kernel).not.toBe("");
    expect(facts.python?.path).toBe(which("python3"));
    expect(facts.python?.version).toMatch(/^3\.\d+\.\d+$/);
    expect(facts.rsync).toMatch(/^\d+\.\d+\.\d+/);
    expect(facts.tar).toBe(true);
    expect(facts.setsid).toBe(true);
  });

  it("measures disk on the nearest existing parent of a remote dir not made yet", () => {
    const facts = parseProbe(runProbe(join(root, "not", "made yet", "$x")).stdout);
    expect(facts.diskDir).toBe(root);
    expect(facts.diskFreeBytes).toBeGreaterThan(0);
  });

  it("reads a leading ~/ as the remote home and nothing else as shell code", () => {
    const home = join(root, "home dir");
    mkdirSync(home);
    const env = { ...process.env, HOME: home };
    const hostile = "~/proj $(touch pwned) `touch pwned2` '; touch pwned3; '~";
    const run = runProbe(hostile, env);
    expect(run.status).toBe(0);
    expect(parseProbe(run.stdout).diskDir).toBe(home);
    for (const name of ["pwned", "pwned2", "pwned3"]) {
      expect(existsSync(join(root, name))).toBe(false);
      expect(existsSync(join(home, name))).toBe(false);
    }
  });

  it("leaves out what a bare host lacks and still reports the rest", () => {
    const bin = makeBin(["uname", "getconf", "df", "tar"]);
    const run = runProbe(root, { PATH: bin, HOME: root });
    expect(run.status).toBe(0);
    const facts = parseProbe(run.stdout);
    expect(facts.python).toBeUndefined();
    expect(facts.rsync).toBeUndefined();
    expect(facts.setsid).toBe(false);
    expect(facts.tar).toBe(true);
    expect(facts.gpus).toEqual([]);
    expect(facts.os).toBe(type());
    expect(facts.cpus).toBe(cpus().length);
    expect(facts.diskFreeBytes).toBeGreaterThan(0);
  });

  it("still answers from shell builtins when no command at all can be found", () => {
    const run = runProbe(root, { PATH: join(root, "nothing-here") });
    expect(run.status).toBe(0);
    const facts = parseProbe(run.stdout);
    expect(facts.os).toBe("");
    expect(facts.tar).toBe(false);
    // /proc/meminfo and the parent walk need no command.
    expect(facts.memTotalBytes).toBe(totalmem());
    expect(facts.diskDir).toBe(root);
    expect(facts.diskFreeBytes).toBeUndefined();
  });

  it("reports the GPUs nvidia-smi lists for the documented query", () => {
    // No GPU here: a stand-in nvidia-smi that answers only the exact query the probe must send.
    const bin = makeBin(["uname", "cat"]);
    const csv = join(FIXTURES, "a100-8x-loaded.csv");
    const query =
      "--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu,driver_version";
    writeExecutable(
      join(bin, "nvidia-smi"),
      `[ "$1" = ${query} ] && [ "$2" = --format=csv,noheader,nounits ] && [ $# -eq 2 ] || exit 2\ncat '${csv}'`,
    );
    const facts = parseProbe(runProbe(root, { PATH: bin }).stdout);
    expect(facts.gpus).toEqual(parseGpuQuery(readFileSync(csv, "utf8")));
    expect(facts.gpus).toHaveLength(8);
    expect(facts.gpuError).toBeUndefined();
  });

  it("reports why nvidia-smi failed instead of finding no GPU silently", () => {
    const bin = makeBin(["cat"]);
    writeExecutable(
      join(bin, "nvidia-smi"),
      `cat '${join(FIXTURES, "driver-failure.txt")}'\nexit 9`,
    );
    const run = runProbe(root, { PATH: bin });
    expect(run.status).toBe(0);
    const facts = parseProbe(run.stdout);
    expect(facts.gpus).toEqual([]);
    expect(facts.gpuError).toMatch(/^exit 9: NVIDIA-SMI has failed because/);
  });
});

describe("parseProbe", () => {
  it("reads a macOS host, which has no /proc and reports memory in bytes", () => {
    const facts = parseProbe(
      [
        "os=Darwin",
        "kernel=23.4.0",
        "arch=arm64",
        "hostname=mini.local",
        "cpus=10",
        "mem_total_bytes=17179869184",
        "disk_dir=/Users/ada",
        "disk_free_kb=123456",
        "python=/usr/bin/python3",
        "python_version=3.9.6",
        "rsync=openrsync: protocol version 29",
        "tar=yes",
        "setsid=no",
        "shell=/bin/zsh",
      ].join("\n"),
    );
    expect(facts).toEqual({
      os: "Darwin",
      kernel: "23.4.0",
      arch: "arm64",
      hostname: "mini.local",
      cpus: 10,
      memTotalBytes: 17179869184,
      diskDir: "/Users/ada",
      diskFreeBytes: 123456 * 1024,
      python: { path: "/usr/bin/python3", version: "3.9.6" },
      rsync: "openrsync: protocol version 29",
      tar: true,
      setsid: false,
      shell: "/bin/zsh",
      gpus: [],
    });
  });

  it("reads the GPU lines among the rest", () => {
    const csv = readFileSync(join(FIXTURES, "h100-na-fields.csv"), "utf8");
    const gpuLines = csv
      .trimEnd()
      .split("\n")
      .map((line) => `gpu=${line}`);
    const facts = parseProbe(["os=Linux", ...gpuLines, "tar=yes", ""].join("\n"));
    expect(facts.gpus).toEqual(parseGpuQuery(csv));
    expect(facts.tar).toBe(true);
  });

  it("leaves unknown what is missing, empty or garbled, and ignores noise", () => {
    const facts = parseProbe(
      "Welcome to Ubuntu!\r\nos=Linux\r\ncpus=\r\nmem_total_kb=lots\r\nrsync=\r\nnonsense\r\n=x\r\n",
    );
    expect(facts).toEqual({
      os: "Linux",
      kernel: "",
      arch: "",
      hostname: "",
      rsync: "unknown",
      tar: false,
      setsid: false,
      gpus: [],
    });
    expect(parseProbe("")).toEqual({
      os: "",
      kernel: "",
      arch: "",
      hostname: "",
      tar: false,
      setsid: false,
      gpus: [],
    });
  });
});
