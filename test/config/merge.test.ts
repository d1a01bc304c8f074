import { describe, expect, it } from "vitest";
import { mergeSettings } from "../../src/config/merge.js";
import type { SettingsLayer } from "../../src/config/settings.js";

const base = { projectDir: "/home/ana/My Project", homeDir: "/home/ana" };

function user(data: SettingsLayer["data"], lines: Record<string, number> = {}): SettingsLayer {
  return {
    kind: "user",
    file: "~/.config/offload/config.yaml",
    data,
    lines,
    dir: "/home/ana/.config/offload",
  };
}
function project(data: SettingsLayer["data"], lines: Record<string, number> = {}): SettingsLayer {
  return { kind: "project", file: "offload.yaml", data, lines, dir: base.projectDir };
}

describe("mergeSettings", () => {
  it("uses defaults when nothing is set: local host, a remote dir named after the project", () => {
    const { settings, sources } = mergeSettings(base);
    expect(settings.host).toEqual({ kind: "local" });
    expect(settings.name).toBe("My-Project");
    expect(settings.remoteDir).toBe("~/.offload/work/My-Project-c9feb418");
    expect(settings.reconnect.timeout).toBe(300);
    expect(settings.sync.tool).toBe("auto");
    expect(sources.host).toEqual({ kind: "default" });
    expect(sources.remote_dir).toEqual({ kind: "default" });
  });

  it("gives each project root its own default remote dir, the same on every run", () => {
    // c9feb418: the start of the sha256 of "/home/ana/My Project".
    const here = mergeSettings(base).settings.remoteDir;
    const twin = mergeSettings({ ...base, projectDir: "/tmp/clone/My Project" }).settings.remoteDir;
    expect(twin).toMatch(/^~\/\.offload\/work\/My-Project-[0-9a-f]{8}$/);
    expect(twin).not.toBe(here);
    expect(
      mergeSettings({ ...base, projectDir: "/home/ana/x/../My Project" }).settings.remoteDir,
    ).toBe(here);
    const named = mergeSettings({ ...base, project: project({ name: "exp" }) }).settings;
    expect(named.remoteDir).toBe("~/.offload/work/exp-c9feb418");
  });

  it("takes scalars from the highest layer: cli > project > user", () => {
    const u = user({ host: "user-box", gpus: 1, reconnect: { timeout: 10 } }, { host: 2, gpus: 3 });
    const p = project({ host: "proj-box", gpus: 2 }, { host: 5, gpus: 6 });
    const both = mergeSettings({ ...base, user: u, project: p });
    expect(both.settings.hostLabel).toBe("proj-box");
    expect(both.sources.host).toEqual({ kind: "project", file: "offload.yaml", line: 5 });
    expect(both.settings.gpus).toBe(2);
    expect(both.settings.reconnect.timeout).toBe(10);
    expect(both.sources["reconnect.timeout"]).toMatchObject({ kind: "user" });

    const withCli = mergeSettings({ ...base, user: u, project: p, cli: { host: "cli-box" } });
    expect(withCli.settings.host).toEqual({ kind: "ssh", host: "cli-box" });
    expect(withCli.sources.host).toEqual({ kind: "cli" });
    expect(withCli.sources.gpus).toEqual({ kind: "project", file: "offload.yaml", line: 6 });

    const userOnly = mergeSettings({ ...base, user: u });
    expect(userOnly.sources.host).toEqual({
      kind: "user",
      file: "~/.config/offload/config.yaml",
      line: 2,
    });
  });

  it("appends lists: user first, then project, then cli, each item with its own source", () => {
    const { settings, sources } = mergeSettings({
      ...base,
      user: user(
        { startup: ["nvidia-smi"], upload: ["~/patch.txt|patch.txt"] },
        { "startup[0]": 4 },
      ),
      project: project(
        { startup: ["pip install -r requirements.txt"], upload: ["data/*.csv"] },
        { "startup[0]": 9 },
      ),
      cli: { startup: ["echo cli"] },
    });
    expect(settings.startup).toEqual(["nvidia-smi", "pip install -r requirements.txt", "echo cli"]);
    expect(sources["startup[0]"]).toMatchObject({ kind: "user", line: 4 });
    expect(sources["startup[1]"]).toMatchObject({ kind: "project", line: 9 });
    expect(sources["startup[2]"]).toEqual({ kind: "cli" });
    expect(settings.upload).toEqual([
      { kind: "map", local: "~/patch.txt", remote: "patch.txt" },
      { kind: "glob", pattern: "data/*.csv" },
    ]);
  });

  it("parses the three download forms", () => {
    const { settings } = mergeSettings({
      ...base,
      project: project({
        download: [
          "logs/*.txt",
          "./results.txt|~/results.txt",
          { from: ["best.pt", "last.pt"], to: "model.pt" },
        ],
      }),
    });
    expect(settings.download).toEqual([
      { kind: "glob", pattern: "logs/*.txt" },
      { kind: "map", remote: "./results.txt", local: "~/results.txt" },
      { kind: "fallback", from: ["best.pt", "last.pt"], to: "model.pt" },
    ]);
  });

  it("merges env maps, higher overwriting lower, and accepts both the list and the map form", () => {
    const { settings, sources } = mergeSettings({
      ...base,
      user: user({ env: ["A=user", "B=user", "EMPTY="] }, { "env[0]": 3, "env[1]": 4 }),
      project: project({ env: { B: "project", N: 2, FLAG: true } }, { "env.B": 7 }),
      cli: { env: ["A=cli", "A=cli-last"] },
    });
    expect(settings.env).toEqual({ A: "cli-last", B: "project", EMPTY: "", N: "2", FLAG: "true" });
    expect(sources["env.A"]).toEqual({ kind: "cli" });
    expect(sources["env.B"]).toEqual({ kind: "project", file: "offload.yaml", line: 7 });
    expect(sources["env.EMPTY"]).toMatchObject({ kind: "user" });
  });

  it("applies a named target on top of the project when --host names it", () => {
    const p = project(
      {
        host: "cpu-box",
        remote_dir: "proj-dir",
        env: { A: "project", B: "project" },
        startup: ["project"],
        targets: {
          gpu: { host: "ubuntu@10.0.0.5:2222", env: { B: "target" }, startup: ["target"], gpus: 4 },
        },
      },
      { host: 1, targets: 5, "targets.gpu": 6, "targets.gpu.host": 7, "targets.gpu.env.B": 8 },
    );
    const { settings, sources } = mergeSettings({ ...base, project: p, cli: { host: "gpu" } });
    expect(settings.target).toBe("gpu");
    expect(settings.host).toEqual({ kind: "ssh", host: "10.0.0.5", user: "ubuntu", port: 2222 });
    expect(settings.hostLabel).toBe("ubuntu@10.0.0.5:2222");
    expect(sources.target).toEqual({ kind: "cli" });
    expect(sources.host).toEqual({ kind: "project", file: "offload.yaml", line: 7 });
    expect(settings.env).toEqual({ A: "project", B: "target" });
    expect(sources["env.B"]).toEqual({ kind: "project", file: "offload.yaml", line: 8 });
    expect(settings.startup).toEqual(["project", "target"]);
    expect(settings.gpus).toBe(4);
    expect(settings.remoteDir).toBe("proj-dir");
  });

  it("uses a target named by the project's own host, defined in the user file", () => {
    const { settings, sources } = mergeSettings({
      ...base,
      user: user(
        { targets: { lab: { host: "lab.example.org/runs" } } },
        { "targets.lab.host": 12 },
      ),
      project: project({ host: "lab" }, { host: 2 }),
    });
    expect(settings.host).toEqual({ kind: "ssh", host: "lab.example.org", path: "runs" });
    expect(settings.remoteDir).toBe("runs");
    expect(sources.remote_dir).toEqual({
      kind: "user",
      file: "~/.config/offload/config.yaml",
      line: 12,
    });
    expect(sources.target).toEqual({ kind: "project", file: "offload.yaml", line: 2 });
  });

  it("treats a host that names no target as an ssh host", () => {
    const { settings } = mergeSettings({
      ...base,
      project: project({ targets: { gpu: { host: "x" } } }),
      cli: { host: "other" },
    });
    expect(settings.target).toBeUndefined();
    expect(settings.host).toEqual({ kind: "ssh", host: "other" });
  });

  it("lets a path in a higher host string beat a lower remote_dir, and not the reverse", () => {
    const cliPath = mergeSettings({
      ...base,
      project: project({ remote_dir: "/srv/x" }),
      cli: { host: "box//data/run" },
    });
    expect(cliPath.settings.remoteDir).toBe("/data/run");
    expect(cliPath.sources.remote_dir).toEqual({ kind: "cli" });

    const cliDir = mergeSettings({
      ...base,
      project: project({ host: "box/ws" }),
      cli: { remote_dir: "/cli" },
    });
    expect(cliDir.settings.remoteDir).toBe("/cli");
  });

  it("expands ~ and resolves relative ssh.config_file against the file that set it", () => {
    const home = mergeSettings({
      ...base,
      user: user({ ssh: { config_file: "~/.ssh/lab_config" } }),
    });
    expect(home.settings.ssh.configFile).toBe("/home/ana/.ssh/lab_config");
    const rel = mergeSettings({
      ...base,
      project: project({ ssh: { config_file: "ssh/config" } }),
    });
    expect(rel.settings.ssh.configFile).toBe("/home/ana/My Project/ssh/config");
  });

  it("merges nested sections key by key", () => {
    const { settings, sources } = mergeSettings({
      ...base,
      user: user({ ssh: { config_file: "/etc/lab", connect_timeout: 5 } }),
      project: project({ ssh: { connect_timeout: 20 } }, { "ssh.connect_timeout": 3 }),
    });
    expect(settings.ssh).toEqual({ configFile: "/etc/lab", connectTimeout: 20 });
    expect(sources["ssh.config_file"]).toMatchObject({ kind: "user" });
    expect(sources["ssh.connect_timeout"]).toEqual({
      kind: "project",
      file: "offload.yaml",
      line: 3,
    });
  });
});
