// offload's ssh prefers AES-GCM where this CPU has AES instructions, and keeps the ciphers a user's ssh
// config names, also through an Include; proven on what a real sshd of the bed negotiates (`ssh -v`).
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SshTransport } from "../../src/transport/ssh.js";
import {
  AES_FIRST_CIPHERS,
  cipherOptions,
  configSetsCiphers,
  cpuinfoHasAes,
  includePatterns,
} from "../../src/transport/ssh-ciphers.js";
import { describeWithHosts } from "../testbed/index.js";

let temp: string | undefined;
afterEach(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
  temp = undefined;
});

const thisCpuHasAes = async () => cpuinfoHasAes(await readFile("/proc/cpuinfo", "latin1"));

describe("ssh cipher preference", () => {
  it("reads AES instructions from x86 flags and arm64 features", () => {
    expect(cpuinfoHasAes("processor\t: 0\nflags\t\t: fpu vme sse2 pclmulqdq aes avx\n")).toBe(true);
    expect(cpuinfoHasAes("processor\t: 0\nflags\t\t: fpu vme sse2 avx\n")).toBe(false);
    expect(cpuinfoHasAes("processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1\n")).toBe(
      true,
    );
    expect(cpuinfoHasAes("model name\t: AES-less board\nFeatures\t: fp asimd\n")).toBe(false);
  });

  it("sees Ciphers and Include lines as ssh writes them", () => {
    expect(configSetsCiphers("Host box\n  Ciphers aes256-ctr\n")).toBe(true);
    expect(configSetsCiphers("ciphers=aes256-ctr\n")).toBe(true);
    expect(configSetsCiphers("#   Ciphers aes128-ctr\nHost *\n  MACs hmac-sha2-256\n")).toBe(false);
    expect(
      includePatterns('Include /etc/ssh/ssh_config.d/*.conf\ninclude = "a b.conf" c\n'),
    ).toEqual(["/etc/ssh/ssh_config.d/*.conf", "a b.conf", "c"]);
  });

  it("prefers AES-GCM unless a config file or one it includes names ciphers", async () => {
    temp = await mkdtemp(join(tmpdir(), "ssh-ciphers-"));
    await mkdir(join(temp, "conf.d"));
    await writeFile(join(temp, "conf.d", "10-other.conf"), "Host *\n  ServerAliveInterval 9\n");
    const plain = join(temp, "plain");
    await writeFile(plain, `Include ${temp}/conf.d/*.conf\nHost box\n  User me\n`);
    expect(cipherOptions(plain)).toEqual(
      (await thisCpuHasAes()) ? ["-o", `Ciphers=${AES_FIRST_CIPHERS}`] : [],
    );
    // A crypto policy's way: the main file includes a folder whose one file sets the ciphers.
    await writeFile(join(temp, "conf.d", "50-policy.conf"), "Ciphers aes256-gcm@openssh.com\n");
    const policed = join(temp, "policed");
    await writeFile(policed, `Include ${temp}/conf.d/*.conf\nHost box\n  User me\n`);
    expect(cipherOptions(policed)).toEqual([]);
  });
});

describeWithHosts(1, "ssh cipher negotiated with a real sshd", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  /** The cipher a fresh connection with the transport's options negotiates (ssh -v's kex line). */
  const negotiated = (configFile: string): string => {
    const transport = new SshTransport({ label: host, host, configFile });
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
    const plain = join(temp, "plain");
    await writeFile(plain, bedConfig);
    expect(negotiated(plain)).toBe(
      (await thisCpuHasAes()) ? "aes128-gcm@openssh.com" : "chacha20-poly1305@openssh.com",
    );
    const chosen = join(temp, "chosen");
    await writeFile(
      chosen,
      `${bedConfig}\nHost *\n  Ciphers aes256-ctr,chacha20-poly1305@openssh.com\n`,
    );
    expect(negotiated(chosen)).toBe("aes256-ctr");
  });
});
