import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeSettings } from "../../src/config/describe.js";
import { loadSettings } from "../../src/config/load.js";
import { resolveSettings } from "../../src/config/resolve.js";
import { defaultRemoteDir } from "../../src/config/settings.js";
import { isOffloadError } from "../../src/errors.js";
import { parseSshG } from "../../src/transport/ssh-g.js";
import { buildSshGArgv, resolveSsh } from "../../src/transport/ssh-resolve.js";

let root: string;
let config: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "offload-sshg-"));
  const included = join(root, "included.conf");
  config = join(root, "config");
  writeFileSync(
    included,
    [
      "Host lab-*",
      "  User researcher",
      "  IdentityFile ~/.ssh/id_lab",
      "  ProxyJump bastion.example.org",
      "",
    ].join("\n"),
  );
  writeFileSync(
    config,
    [
      `Include ${included}`,
      "Host gpu",
      "  HostName 10.20.30.40",
      "  User ubuntu",
      "  Port 2222",
      "  IdentityFile ~/.ssh/id_gpu",
      "  IdentityFile ~/.ssh/id_backup",
      "  CertificateFile ~/.ssh/id_gpu-cert.pub",
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${join(root, "kh1")} ${join(root, "kh2")}`,
      "Match originalhost lab-*",
      "  HostName %h.cluster.example.org",
      "  Port 2200",
      "  StrictHostKeyChecking yes",
      "",
    ].join("\n"),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("parseSshG", () => {
  it("reads the fields offload needs and keeps the rest", () => {
    const parsed = parseSshG(
      "host gpu\nuser ubuntu\nhostname 10.0.0.1\nport 2222\nidentityfile ~/.ssh/a\nidentityfile ~/.ssh/b\nproxyjump none\nuserknownhostsfile /a /b\nstricthostkeychecking accept-new\nforwardagent no\n",
    );
    expect(parsed).toMatchObject({
      hostname: "10.0.0.1",
      user: "ubuntu",
      port: 2222,
      identityFiles: ["~/.ssh/a", "~/.ssh/b"],
      userKnownHostsFiles: ["/a", "/b"],
      strictHostKeyChecking: "accept-new",
    });
    expect(parsed.proxyJump).toBeUndefined();
    expect(parsed.raw.get("forwardagent")).toEqual(["no"]);
  });

  it("refuses output without hostname, user or port", () => {
    expect(() => parseSshG("user x\nport 22\n")).toThrow(/no hostname, user or port/);
    expect(() => parseSshG("hostname h\nuser x\nport zero\n")).toThrow(/no hostname, user or port/);
  });
});

describe("resolveSsh (real ssh -G, no connection)", () => {
  it("resolves a Host block: HostName, User, Port, keys, certificates, known_hosts", async () => {
    const resolved = await resolveSsh({ host: "gpu" }, { configFile: config });
    expect(resolved.hostname).toBe("10.20.30.40");
    expect(resolved.user).toBe("ubuntu");
    expect(resolved.port).toBe(2222);
    expect(resolved.identityFiles).toEqual(["~/.ssh/id_gpu", "~/.ssh/id_backup"]);
    expect(resolved.certificateFiles).toEqual(["~/.ssh/id_gpu-cert.pub"]);
    expect(resolved.identitiesOnly).toBe(true);
    expect(resolved.userKnownHostsFiles).toEqual([join(root, "kh1"), join(root, "kh2")]);
  });

  it("follows Include and Match, and reports ProxyJump", async () => {
    const resolved = await resolveSsh({ host: "lab-3" }, { configFile: config });
    expect(resolved.hostname).toBe("lab-3.cluster.example.org");
    expect(resolved.user).toBe("researcher");
    expect(resolved.port).toBe(2200);
    expect(resolved.proxyJump).toBe("bastion.example.org");
    expect(resolved.identityFiles).toEqual(["~/.ssh/id_lab"]);
    expect(resolved.strictHostKeyChecking).toBe("true");
  });

  it("lets user and port from the host string override the config", async () => {
    const resolved = await resolveSsh(
      { host: "gpu", user: "root", port: 22 },
      { configFile: config },
    );
    expect(resolved.user).toBe("root");
    expect(resolved.port).toBe(22);
    expect(resolved.hostname).toBe("10.20.30.40");
  });

  it("puts the host after `--` so it can never be an option", () => {
    expect(buildSshGArgv({ host: "gpu", user: "u", port: 2 }, { configFile: "/c" })).toEqual([
      "ssh",
      "-G",
      "-F",
      "/c",
      "-l",
      "u",
      "-p",
      "2",
      "--",
      "gpu",
    ]);
    expect(() => buildSshGArgv({ host: "-oProxyCommand=id" })).toThrow();
  });

  it("names the ssh config when ssh can't read it", async () => {
    const bad = join(root, "bad_config");
    writeFileSync(bad, "Host x\n  NoSuchOption yes\n");
    for (const configFile of [bad, join(root, "missing")]) {
      let caught: unknown;
      try {
        await resolveSsh({ host: "x" }, { configFile });
      } catch (error) {
        caught = error;
      }
      expect(isOffloadError(caught) && caught.code).toBe("E_CONFIG_VALUE");
      expect((caught as Error).message).toContain(configFile);
    }
  });
});

describe("resolveSettings + describeSettings", () => {
  it("shows each effective value with its source, ssh -G fields included", async () => {
    const projectDir = join(root, "proj");
    mkdirSync(projectDir, { recursive: true });
    writeFileSync(
      join(projectDir, "offload.yaml"),
      `name: demo\nssh:\n  config_file: ${config}\ntargets:\n  big:\n    host: root@gpu\nenv:\n  SEED: 1\n`,
    );
    const loaded = await loadSettings({
      projectDir,
      homeDir: join(root, "home"),
      env: {},
      cli: { host: "big" },
    });
    const resolved = await resolveSettings(loaded);
    expect(resolved.connection).toMatchObject({
      kind: "ssh",
      host: "gpu",
      hostname: "10.20.30.40",
      user: "root",
    });
    const described = describeSettings(resolved);
    expect(described).toMatchObject({
      name: { value: "demo", source: "offload.yaml:1" },
      host: { value: "root@gpu", source: "offload.yaml:6" },
      target: { value: "big", source: "cli" },
      remote_dir: { value: defaultRemoteDir("demo", projectDir), source: "default" },
      hostname: { value: "10.20.30.40", source: "ssh -G" },
      user: { value: "root", source: "offload.yaml:6" },
      port: { value: 2222, source: "ssh -G" },
      identity_files: { value: ["~/.ssh/id_gpu", "~/.ssh/id_backup"], source: "ssh -G" },
      env: { SEED: { value: "1", source: "offload.yaml:8" } },
      ssh: { config_file: { value: config, source: "offload.yaml:3" } },
      reconnect: { timeout: { value: 300, source: "default" } },
      gpus: { value: null, source: "default" },
    });
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
  });

  it("does not run ssh for local", async () => {
    const projectDir = join(root, "local-proj");
    mkdirSync(projectDir, { recursive: true });
    const resolved = await resolveSettings(
      await loadSettings({ projectDir, homeDir: root, env: {} }),
    );
    expect(resolved.connection).toEqual({ kind: "local" });
    expect(describeSettings(resolved)).toMatchObject({
      host: { value: "local", source: "default" },
    });
  });
});
