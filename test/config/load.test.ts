import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findUserSettingsFile, loadSettings } from "../../src/config/load.js";
import { isOffloadError, type OffloadError } from "../../src/errors.js";

let root: string;
let home: string;
let projectDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "offload-config-"));
  home = join(root, "home");
  projectDir = join(root, "proj");
  mkdirSync(join(home, ".config", "offload"), { recursive: true });
  mkdirSync(projectDir);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function writeProject(text: string): void {
  writeFileSync(join(projectDir, "offload.yaml"), text);
}
function writeUser(text: string): void {
  writeFileSync(join(home, ".config", "offload", "config.yaml"), text);
}
async function loadError(cli?: Record<string, unknown>): Promise<OffloadError> {
  try {
    await loadSettings({ projectDir, homeDir: home, env: {}, ...(cli ? { cli } : {}) });
  } catch (error) {
    if (isOffloadError(error)) return error;
    throw error;
  }
  throw new Error("expected loadSettings to fail");
}

describe("loadSettings", () => {
  it("reads both files and the CLI, naming file and line of each value", async () => {
    writeUser("host: user-box\nenv:\n  - HF_HOME=/cache\nstartup:\n  - nvidia-smi\n");
    writeProject(
      [
        "name: mnist",
        "env:",
        "  BATCH: 64",
        "startup:",
        "  - pip install -r requirements.txt",
        "targets:",
        "  gpu:",
        "    host: ubuntu@10.1.2.3:2222/work",
        "    env: { CUDA_VISIBLE_DEVICES: 0 }",
        "",
      ].join("\n"),
    );
    const { settings, sources } = await loadSettings({
      projectDir,
      homeDir: home,
      env: {},
      cli: { host: "gpu" },
    });
    expect(settings.name).toBe("mnist");
    expect(settings.target).toBe("gpu");
    expect(settings.host).toEqual({
      kind: "ssh",
      host: "10.1.2.3",
      user: "ubuntu",
      port: 2222,
      path: "work",
    });
    expect(settings.remoteDir).toBe("work");
    expect(settings.env).toEqual({ HF_HOME: "/cache", BATCH: "64", CUDA_VISIBLE_DEVICES: "0" });
    expect(settings.startup).toEqual(["nvidia-smi", "pip install -r requirements.txt"]);
    expect(sources.name).toEqual({ kind: "project", file: "offload.yaml", line: 1 });
    expect(sources.host).toEqual({ kind: "project", file: "offload.yaml", line: 8 });
    expect(sources.target).toEqual({ kind: "cli" });
    expect(sources["env.HF_HOME"]).toEqual({
      kind: "user",
      file: "~/.config/offload/config.yaml",
      line: 3,
    });
    expect(sources["env.BATCH"]).toEqual({ kind: "project", file: "offload.yaml", line: 3 });
    expect(sources["env.CUDA_VISIBLE_DEVICES"]).toEqual({
      kind: "project",
      file: "offload.yaml",
      line: 9,
    });
    expect(sources["startup[1]"]).toEqual({ kind: "project", file: "offload.yaml", line: 5 });
  });

  it("works with no files at all", async () => {
    const { settings } = await loadSettings({ projectDir, homeDir: home, env: {} });
    expect(settings.host).toEqual({ kind: "local" });
    expect(settings.name).toBe("proj");
  });

  it("finds the user file under XDG_CONFIG_HOME, ignoring a relative one", async () => {
    const xdg = join(root, "xdg");
    mkdirSync(join(xdg, "offload"), { recursive: true });
    writeFileSync(join(xdg, "offload", "config.yaml"), "host: from-xdg\n");
    writeUser("host: from-home\n");
    const viaXdg = await loadSettings({ projectDir, homeDir: home, env: { XDG_CONFIG_HOME: xdg } });
    expect(viaXdg.settings.hostLabel).toBe("from-xdg");
    expect(viaXdg.sources.host).toMatchObject({
      kind: "user",
      file: join(xdg, "offload", "config.yaml"),
      line: 1,
    });
    expect(findUserSettingsFile({ XDG_CONFIG_HOME: "rel" }, home)).toBe(
      join(home, ".config", "offload", "config.yaml"),
    );
  });

  it("refuses an unknown key with file, line, column and the closest known key", async () => {
    writeProject("name: demo\n\nuplod:\n  - data/*.csv\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_KEY");
    expect(error.message).toBe("offload.yaml:3:1: uplod: unknown key `uplod`");
    expect(error.hint).toBe("did you mean `upload`?");
  });

  it("refuses an unknown nested key, suggesting from that section's keys", async () => {
    writeUser("ssh:\n  conect_timeout: 5\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_KEY");
    expect(error.message).toBe(
      "~/.config/offload/config.yaml:2:3: ssh.conect_timeout: unknown key `conect_timeout`",
    );
    expect(error.hint).toBe("did you mean `connect_timeout`?");
  });

  it("lists the known keys when nothing is close", async () => {
    writeProject("sync:\n  zzzzzzzz: 1\n");
    const error = await loadError();
    expect(error.hint).toBe("known keys here: tool");
  });

  it("names the list item of a wrong value", async () => {
    writeProject("download:\n  - logs/*.txt\n  - best.pt|model.pt\n  - 42\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    expect(error.message).toBe(
      "offload.yaml:4:5: download[2]: expected a string, {from, to} or {path, every}, got the number 42",
    );
  });

  it("reads a target's slurm block, and names a bad slurm value's line", async () => {
    writeProject(
      [
        "targets:",
        "  cluster:",
        "    host: login.example.org",
        "    slurm:",
        "      partition: gpu",
        "      nodes: 2",
        "      gpus_per_node: 4",
        "      time: 90",
        "      directives: ['--mem=16G']",
        "      args: [--qos=high]",
        "",
      ].join("\n"),
    );
    const loaded = await loadSettings({
      projectDir,
      homeDir: home,
      env: {},
      cli: { host: "cluster" },
    });
    expect(loaded.settings.slurm).toEqual({
      partition: "gpu",
      nodes: 2,
      gpusPerNode: 4,
      time: "90",
      directives: ["--mem=16G"],
      extraArgs: ["--qos=high"],
    });
    writeProject("slurm:\n  partition: gpu\n  nodes: 0\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    expect(error.message).toMatch(/^offload\.yaml:3:\d+: slurm\.nodes: expected 1 or more nodes/);
  });

  it("reads the sweep block, a lone value as a list and numbers as text", async () => {
    writeProject(
      [
        "sweep:",
        "  params:",
        "    lr: [1e-3, '1e-4']",
        "    bs: 32",
        "    amp: [true, false]",
        "  hosts: [gpu-a, gpu-b]",
        "  command: python train.py --lr {lr} --bs {bs}",
        "",
      ].join("\n"),
    );
    const loaded = await loadSettings({ projectDir, homeDir: home, env: {} });
    expect(loaded.settings.sweep).toEqual({
      params: [
        ["lr", ["0.001", "1e-4"]],
        ["bs", ["32"]],
        ["amp", ["true", "false"]],
      ],
      hosts: ["gpu-a", "gpu-b"],
      command: ["python train.py --lr {lr} --bs {bs}"],
    });
    expect(loaded.sources.sweep).toMatchObject({ kind: "project", line: 1 });
    writeProject("sweep:\n  params: {lr: [1]}\n  command: [python, t.py, '{lr}', '{seed}']\n");
    expect((await loadError()).message).toMatch(
      /^offload\.yaml:3:\d+: sweep\.command\[3\]: names \{seed\}, which no parameter in sweep\.params sets/,
    );
  });

  it("names the line of each mistake in the sweep block", async () => {
    writeProject(
      [
        "sweep:",
        "  params:",
        "    lr: []",
        "    sweep: [1]",
        "    bs: ['']",
        "  hosts: []",
        "  command: ''",
        "  hots: [a]",
        "",
      ].join("\n"),
    );
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    const lines = error.message.split("\n");
    expect(lines.find((l) => l.includes("sweep.params.lr"))).toMatch(
      /^offload\.yaml:3:\d+: sweep\.params\.lr: expected 1 or more values/,
    );
    expect(lines.find((l) => l.includes("sweep.params.sweep"))).toMatch(/^offload\.yaml:4:/);
    expect(lines.find((l) => l.includes("sweep.params.bs"))).toMatch(
      /^offload\.yaml:5:\d+: sweep\.params\.bs\[0\]: expected a value, got an empty string/,
    );
    expect(lines.find((l) => l.includes("sweep.hosts"))).toMatch(
      /^offload\.yaml:6:\d+: sweep\.hosts: expected 1 or more hosts/,
    );
    expect(lines.find((l) => l.includes("sweep.command"))).toMatch(/^offload\.yaml:7:/);
    expect(lines.find((l) => l.includes("hots"))).toMatch(/^offload\.yaml:8:/);
  });

  it("refuses a sweep value with a newline or tab: it becomes a run's one-line tag", async () => {
    writeProject('sweep:\n  params:\n    lr: ["1e-3", "a\\nb"]\n    bs: [1, "x\\ty"]\n');
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    const lines = error.message.split("\n");
    expect(lines.find((l) => l.includes("sweep.params.lr"))).toMatch(
      /^offload\.yaml:3:\d+: sweep\.params\.lr\[1\]: a value is one line, without tabs/,
    );
    expect(lines.find((l) => l.includes("sweep.params.bs"))).toMatch(/^offload\.yaml:4:/);
  });

  it("names the field inside a {from, to} download", async () => {
    writeProject("download:\n  - from: [best.pt, last.pt]\n    to: 3\n");
    const error = await loadError();
    expect(error.message).toBe(
      "offload.yaml:3:9: download[0].to: expected a local path, got the number 3",
    );
  });

  it("refuses wrong types, bad hosts and bad paths, listing every problem in line order", async () => {
    writeProject(
      [
        "gpus: many",
        "host: 'box;reboot'",
        "upload:",
        "  - /etc/passwd",
        "  - ../secret",
        "sync: { tool: scp }",
        "",
      ].join("\n"),
    );
    const error = await loadError();
    expect(error.message.split("\n")).toEqual([
      'offload.yaml:1:7: gpus: expected a number of GPUs, got the string "many"',
      'offload.yaml:2:7: host: Invalid host "box;reboot": it contains the character `;`.',
      "offload.yaml:4:5: upload[0]: a glob must be relative to the project (use `from|to` for other paths)",
      "offload.yaml:5:5: upload[1]: a glob may not leave the project with `..`",
      'offload.yaml:6:15: sync.tool: expected one of auto, rsync, tar, got the string "scp"',
    ]);
  });

  it("reads progress.patterns from the user file and offload.yaml, naming each one's line", async () => {
    writeUser("progress:\n  patterns:\n    - 'gpu (?<gpu_util>[0-9]+)%'\n");
    writeProject("host: local\nprogress:\n  patterns:\n    - 'acc=(?<acc>[0-9.]+)'\n");
    const { settings, sources } = await loadSettings({ projectDir, homeDir: home, env: {} });
    expect(settings.progress.patterns).toEqual(["gpu (?<gpu_util>[0-9]+)%", "acc=(?<acc>[0-9.]+)"]);
    expect(sources["progress.patterns[1]"]).toEqual({
      kind: "project",
      file: "offload.yaml",
      line: 4,
    });
  });

  it("refuses a progress pattern that is not a regex or names no group, at its line", async () => {
    writeProject("progress:\n  patterns:\n    - 'acc=([0-9.]+'\n    - 'acc=([0-9.]+)'\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    const [first = "", second = ""] = error.message.split("\n");
    expect(first).toMatch(
      /^offload\.yaml:3:7: progress\.patterns\[0\]: not a valid regular expression: /,
    );
    expect(second).toBe(
      "offload.yaml:4:7: progress.patterns[1]: has no named group, so it cannot name a metric",
    );
  });

  it("reports a missing target host at the target", async () => {
    writeProject("targets:\n  gpu:\n    remote_dir: /w\n");
    const error = await loadError();
    expect(error.message).toBe(
      "offload.yaml:3:5: targets.gpu: a target needs `host:` (a machine you have) or `cloud:` (one offload creates)",
    );
  });

  it.each(["0", "3601", "-1", "1.5", "true"])(
    "refuses machine_metrics: %s in one sentence that gives the range",
    async (value) => {
      writeProject(`machine_metrics: ${value}\n`);
      const error = await loadError();
      expect(error.code).toBe("E_CONFIG_VALUE");
      expect(error.message).toContain(
        "machine_metrics: expected seconds between machine samples (1 to 3600), or false",
      );
      expect(error.message).not.toContain("Too ");
    },
  );

  it("reports YAML syntax errors with their line", async () => {
    writeProject("host: box\nenv: [A=1\nname: x\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_SYNTAX");
    expect(error.message).toMatch(/^offload\.yaml:3:1: /);
  });

  it("reports duplicate keys as a syntax error", async () => {
    writeProject("host: a\nhost: b\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_SYNTAX");
    expect(error.message).toMatch(/^offload\.yaml:2:1: .*unique/);
  });

  it("refuses a file that is not a map", async () => {
    writeProject("- host: a\n");
    const error = await loadError();
    expect(error.message).toBe(
      "offload.yaml:1:1: expected a map of settings (`key: value` lines), got a list",
    );
  });

  it("accepts an empty file", async () => {
    writeProject("# nothing yet\n");
    const { settings } = await loadSettings({ projectDir, homeDir: home, env: {} });
    expect(settings.host).toEqual({ kind: "local" });
  });

  it("validates CLI values with the same rules", async () => {
    const error = await loadError({ host: "-oProxyCommand=id" });
    // Typed on the command line, a bad value is a usage error (exit 2).
    expect(error.code).toBe("E_USAGE");
    expect(error.message).toMatch(/^command line: host: Invalid host/);
  });
});

describe("keys from mltk", () => {
  it("points mltk's names at offload's", async () => {
    writeProject("environment:\n  - A=1\n");
    const error = await loadError();
    expect(error.message).toBe("offload.yaml:1:1: environment: unknown key `environment`");
    expect(error.hint).toBe("did you mean `env`?");
  });
});

describe("hostile keys", () => {
  it("treats prototype names as plain unknown keys", async () => {
    writeProject("constructor: 1\n__proto__: 2\n");
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_KEY");
    expect(error.message).toMatch(/^offload\.yaml:1:1: constructor: unknown key `constructor`/);
    expect(error.hint).toMatch(/^known keys here: name, host/);
  });
});

describe("a section that is not a map", () => {
  it.each([
    ["ssh: 5", "ssh", "the number 5", "connect_timeout"],
    ["slurm: yes", "slurm", 'the string "yes"', "partition"],
    ["sweep: [1, 2]", "sweep", "a list", "params"],
    ["storage: []", "storage", "a list", "endpoint"],
    ["progress: 5", "progress", "the number 5", "patterns"],
  ])("%s names the section, what it got, and the keys it takes", async (text, key, got, known) => {
    writeProject(`${text}\n`);
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    expect(error.message).toMatch(
      new RegExp(
        `^offload\\.yaml:1:[0-9]+: ${key}: expected a map of settings .*, got ${got.replace(/[[\]]/g, "\\$&")}$`,
      ),
    );
    expect(error.hint).toContain(`\`${key}:\` takes these keys`);
    expect(error.hint).toContain(known);
  });
});

describe("a value of the wrong type or size, in offload's words", () => {
  it.each([
    [
      "targets:\n  a:\n    cloud: gcp\n    gcp: { disk_gb: big }\n",
      'targets.a.gcp.disk_gb: expected a number, got the string "big"',
    ],
    [
      "targets:\n  a:\n    cloud: gcp\n    region: []\n",
      "targets.a.region: expected at least 1 item, got a list",
    ],
  ])("%j", async (text, said) => {
    writeProject(text);
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    expect(error.message).toMatch(/^offload\.yaml:[0-9]+:[0-9]+: /);
    expect(error.message.replace(/^offload\.yaml:[0-9]+:[0-9]+: /, "")).toBe(said);
  });
});

describe("a value out of range says what the key takes", () => {
  it.each([
    [
      "targets:\n  a:\n    cloud: command\n    budget: { usd: -3 }\n",
      "targets.a.budget.usd: expected an amount in US dollars above 0, got the number -3",
      "Write a number above 0, such as `usd: 1`.",
    ],
    [
      "retry: { attempts: 0 }\n",
      "retry.attempts: expected 1 or more attempts (1: no retry), got the number 0",
      "Write a number of 1 or more, such as `attempts: 1`.",
    ],
    [
      "storage:\n  endpoint: ftp://files.example.com\n",
      'storage.endpoint: expected an http:// or https:// URL such as https://<account>.r2.cloudflarestorage.com, got the string "ftp://files.example.com"',
      undefined,
    ],
  ])("%j", async (text, said, hint) => {
    writeProject(text);
    const error = await loadError();
    expect(error.code).toBe("E_CONFIG_VALUE");
    expect(error.message.replace(/^offload\.yaml:[0-9]+:[0-9]+: /, "")).toBe(said);
    expect(error.hint).toBe(hint);
  });
});
