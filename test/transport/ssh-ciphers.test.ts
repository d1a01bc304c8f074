// offload's ssh prefers AES-GCM where this CPU has AES instructions, and keeps the ciphers ssh's config
// gives the host (also through an Include, also in a Host block); ssh itself is asked (`ssh -G`), once
// while its config files stay as they were. Proven on real configs, real `ssh -G`, and on what a real
// sshd of the bed negotiates (`ssh -v`).
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findLocalProgram } from "../../src/transport/programs.js";
import { SshTransport } from "../../src/transport/ssh.js";
import {
  AES_FIRST_CIPHERS,
  cpuinfoHasAes,
  decideCipherOptions,
} from "../../src/transport/ssh-ciphers.js";
import { configPathsRead, watchedPaths } from "../../src/transport/ssh-config-files.js";
import { describeWithHosts } from "../testbed/index.js";

let temp: string | undefined;
const path = process.env.PATH;
afterEach(async () => {
  process.env.PATH = path;
  if (temp) await rm(temp, { recursive: true, force: true });
  temp = undefined;
});

const aes = cpuinfoHasAes(readFileSync("/proc/cpuinfo", "latin1"));
const AES_FIRST = ["-o", `Ciphers=${AES_FIRST_CIPHERS}`];

/** A config that includes every `conf.d/*.conf` beside it, as crypto-policies' files are included. */
async function makeIncludingConfig(dir: string): Promise<string> {
  await mkdir(join(dir, "conf.d"));
  await writeFile(join(dir, "conf.d", "10-other.conf"), "Host *\n  ServerAliveInterval 9\n");
  const config = join(dir, "config");
  await writeFile(config, `Include ${dir}/conf.d/*.conf\nHost box\n  User me\n`);
  return config;
}

describe("ssh cipher preference", () => {
  it("reads AES instructions from x86 flags and arm64 features", () => {
    expect(cpuinfoHasAes("processor\t: 0\nflags\t\t: fpu vme sse2 pclmulqdq aes avx\n")).toBe(true);
    expect(cpuinfoHasAes("processor\t: 0\nflags\t\t: fpu vme sse2 avx\n")).toBe(false);
    expect(cpuinfoHasAes("processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1\n")).toBe(
      true,
    );
    expect(cpuinfoHasAes("model name\t: AES-less board\nFeatures\t: fp asimd\n")).toBe(false);
  });

  it("watches the files a real `ssh -G -v` read, the folders of included ones, and unmatched Includes", async () => {
    temp = await mkdtemp(join(tmpdir(), "ssh-ciphers-"));
    const config = await makeIncludingConfig(temp);
    await writeFile(config, `Include ${temp}/later.d/*.conf\n`, { flag: "a" });
    const asked = spawnSync("ssh", ["-v", "-G", "-F", config, "--", "box"], { encoding: "utf8" });
    expect(asked.status, asked.stderr).toBe(0);
    const reads = configPathsRead(asked.stderr, ["/home/me"]);
    expect(reads).toEqual({
      read: [config, join(temp, "conf.d", "10-other.conf")],
      unmatched: [`${temp}/later.d/*.conf`],
    });
    expect(watchedPaths([config], reads)).toEqual(
      [
        config,
        join(temp, "conf.d"),
        join(temp, "conf.d", "10-other.conf"),
        join(temp, "later.d"),
      ].sort(),
    );
  });

  it("prefers AES-GCM unless ssh's config gives this host ciphers, through an Include, in a Host block", async () => {
    temp = await mkdtemp(join(tmpdir(), "ssh-ciphers-"));
    const configFile = await makeIncludingConfig(temp);
    await writeFile(
      join(temp, "conf.d", "50-policy.conf"),
      "Host box\n  Ciphers aes256-gcm@openssh.com\n",
    );
    const cache = (name: string) => join(temp ?? "", `${name}.json`);
    expect(decideCipherOptions({ host: "box", configFile }, cache("box"))).toEqual([]);
    expect(decideCipherOptions({ host: "other", configFile }, cache("other"))).toEqual(
      aes ? AES_FIRST : [],
    );
    // `+` adds to ssh's default: still the user's choice, so still theirs.
    await writeFile(join(temp, "conf.d", "60-more.conf"), "Host more\n  Ciphers +aes256-cbc\n");
    expect(decideCipherOptions({ host: "more", configFile }, cache("more"))).toEqual([]);
  });

  it.runIf(aes)("asks ssh again where the kept answer is damaged", async () => {
    temp = await mkdtemp(join(tmpdir(), "ssh-ciphers-"));
    const configFile = await makeIncludingConfig(temp);
    const cache = join(temp, "box.json");
    for (const damaged of ["null", '{"watched":null,"options":[]}', "{", ""]) {
      await writeFile(cache, damaged);
      expect(decideCipherOptions({ host: "box", configFile }, cache)).toEqual(AES_FIRST);
    }
  });

  it.runIf(aes)("never passes ssh options a kept answer holds other than its own", async () => {
    temp = await mkdtemp(join(tmpdir(), "ssh-ciphers-"));
    const configFile = await makeIncludingConfig(temp);
    const cache = join(temp, "box.json");
    expect(decideCipherOptions({ host: "box", configFile }, cache)).toEqual(AES_FIRST);
    const kept = JSON.parse(await readFile(cache, "utf8"));
    // The files ssh read are unchanged, so the kept answer would be taken as it stands.
    for (const options of [[5], ["-o", "ProxyCommand=touch /nonexistent/x"], ["-o"]]) {
      await writeFile(cache, JSON.stringify({ ...kept, options }));
      expect(decideCipherOptions({ host: "box", configFile }, cache)).toEqual(AES_FIRST);
    }
  });

  it.runIf(aes)(
    "asks ssh once while the files it read are unchanged, and again when one changes or appears",
    async () => {
      temp = await mkdtemp(join(tmpdir(), "ssh-ciphers-"));
      const configFile = await makeIncludingConfig(temp);
      // The real ssh behind a wrapper that notes each call: what a run spawns to decide.
      const realSsh = findLocalProgram("ssh") ?? "/usr/bin/ssh";
      const bin = join(temp, "bin");
      const calls = join(temp, "calls");
      await mkdir(bin);
      await writeFile(
        join(bin, "ssh"),
        `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${realSsh}' "$@"\n`,
      );
      chmodSync(join(bin, "ssh"), 0o755);
      process.env.PATH = `${bin}:${path}`;
      const count = async () =>
        (await readFile(calls, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
      const cache = join(temp, "box.json");
      const decide = () => decideCipherOptions({ host: "box", configFile }, cache);

      expect(decide()).toEqual(AES_FIRST);
      expect(await count()).toBe(2); // this host's config, and ssh's default
      expect(decide()).toEqual(AES_FIRST);
      expect(await count()).toBe(2);
      // A new file that the Include's glob matches: a change ssh would read.
      await writeFile(join(temp, "conf.d", "50-policy.conf"), "Host box\n  Ciphers aes256-ctr\n");
      expect(decide()).toEqual([]);
      expect(await count()).toBe(4);
      expect(decide()).toEqual([]);
      expect(await count()).toBe(4);
      // An edit of a file it read.
      await writeFile(
        join(temp, "conf.d", "50-policy.conf"),
        "Host elsewhere\n  Ciphers aes256-ctr\n",
      );
      expect(decide()).toEqual(AES_FIRST);
      expect(await count()).toBe(6);
    },
  );
});

describeWithHosts(1, "ssh cipher negotiated with a real sshd", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  /** The cipher a fresh connection with the transport's options negotiates (ssh -v's kex line). */
  const negotiated = (configFile: string, controlDir: string): string => {
    const transport = new SshTransport({ label: host, host, configFile, controlDir });
    const args = transport.baseArgs();
    const result = spawnSync(
      "ssh",
      [...args, "-o", "ControlPath=none", "-o", "ControlMaster=no", "-v", "--", host, "true"],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    return /kex: client->server cipher: (\S+)/.exec(result.stderr)?.[1] ?? "";
  };

  it("takes AES-GCM where the CPU has AES, and the user's ciphers where the config names them", async () => {
    temp = await mkdtemp(join(tmpdir(), "ssh-ciphers-bed-"));
    const bedConfig = await readFile(bed.sshConfig, "utf8");
    // Ciphers for another host only: this host still gets offload's preference.
    const plain = join(temp, "plain");
    await writeFile(plain, `${bedConfig}\nHost not-${host}\n  Ciphers aes256-ctr\n`);
    expect(negotiated(plain, temp)).toBe(
      aes ? "aes128-gcm@openssh.com" : "chacha20-poly1305@openssh.com",
    );
    const chosen = join(temp, "chosen");
    await writeFile(
      chosen,
      `${bedConfig}\nHost *\n  Ciphers aes256-ctr,chacha20-poly1305@openssh.com\n`,
    );
    expect(negotiated(chosen, temp)).toBe("aes256-ctr");
  });
});
