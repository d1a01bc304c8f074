// Proves the SSH test bed: verified hosts, private host state, faults that bite and heal, clean down.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, runSync } from "./testbed/command.js";
import { describeWithHosts, leaseFaultHost, useTestbed } from "./testbed/context.js";
import { down } from "./testbed/down.js";
import { acquireFaultHost, releaseFaultHost } from "./testbed/fault-lease.js";
import {
  cutLink,
  dropHost,
  healLink,
  killSessions,
  resetFaultHost,
  ruleHandles,
  slowHostSending,
  slowLink,
  undropHost,
} from "./testbed/faults.js";
import { execInHost, processesInHost } from "./testbed/inspect.js";
import { upLoopback } from "./testbed/loopback.js";
import { defaultNames, hostAddress, parseHostIndex, type TestbedNames } from "./testbed/names.js";
import { isGone, netInodeOfPath } from "./testbed/procfs.js";
import { findSubnetConflicts } from "./testbed/subnet.js";
import type { TestbedInfo } from "./testbed/types.js";

/** ssh with a hard cap: a client whose host vanished would otherwise hang forever. */
function ssh(info: TestbedInfo, host: string, command: string, options: string[] = []) {
  return run(["ssh", "-F", info.sshConfig, ...options, host, command], { timeoutMs: 30_000 });
}

describeWithHosts(1, "test bed: one host", (info) => {
  const host = info.hosts[0] ?? "";

  it("runs a command over ssh with the recorded host key", async () => {
    const result = await ssh(info, host, "echo ok");
    expect(result).toMatchObject({ code: 0, stdout: "ok\n" });
  });

  it("refuses a host whose key is not recorded", async () => {
    const result = await ssh(info, host, "true", ["-o", "UserKnownHostsFile=/dev/null"]);
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Host key verification failed/);
  });
});

describeWithHosts(2, "test bed: namespaced hosts", (info) => {
  const [h1 = "", h2 = ""] = info.hosts;

  it("each host answers with its own hostname, the fault pool's too", async () => {
    const victim = await leaseFaultHost();
    expect(victim).toMatch(/^offload-hf[1-9]$/);
    for (const host of [h1, h2, victim]) {
      expect((await ssh(info, host, "hostname")).stdout.trim()).toBe(host);
    }
  });

  it("a host cannot see another host's /tmp", async () => {
    const marker = `/tmp/marker-${process.pid}`;
    expect((await ssh(info, h2, `echo here > ${marker}`)).code).toBe(0);
    expect((await ssh(info, h1, `test -e ${marker}`)).code).toBe(1);
    expect((await execInHost(h2, ["cat", marker])).stdout).toBe("here\n");
    await ssh(info, h2, `rm -f ${marker}`);
  });

  it("hosts resolve each other by name inside the /24", async () => {
    const result = await ssh(info, h1, `getent hosts ${h2}`);
    expect(result.stdout).toMatch(/^10\.200\.1\.\d+\s/);
  });

  it("killSessions ends a live session but keeps the host serving", async () => {
    const victim = await leaseFaultHost();
    const tag = `sleep 3${process.pid % 1000}7`;
    const session = ssh(info, victim, tag);
    let found = processesInHost(victim).find((p) => p.cmdline === tag);
    for (let i = 0; i < 100 && found === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      found = processesInHost(victim).find((p) => p.cmdline === tag);
    }
    expect(found).toBeDefined();
    expect((await killSessions(victim)).length).toBeGreaterThan(0);
    expect((await session).code).toBe(255);
    if (found !== undefined) process.kill(found.pid, "SIGKILL");
    expect((await ssh(info, victim, "true")).code).toBe(0);
  });

  it("a cut link makes a new connection fail until healed", async () => {
    const victim = await leaseFaultHost();
    await cutLink(victim);
    try {
      expect((await ssh(info, victim, "true", ["-o", "ConnectTimeout=2"])).code).toBe(255);
    } finally {
      await healLink(victim);
    }
    expect((await ssh(info, victim, "hostname")).stdout.trim()).toBe(victim);
  });

  it("a dropped host vanishes, also for the other hosts, until undropped", async () => {
    const victim = await leaseFaultHost();
    const names = defaultNames();
    const address = hostAddress(names, parseHostIndex(names, victim) ?? 0);
    const probe = ["timeout", "2", "bash", "-c", `exec 3<>/dev/tcp/${address}/22`];
    await dropHost(victim);
    try {
      expect((await ssh(info, victim, "true", ["-o", "ConnectTimeout=2"])).code).toBe(255);
      // A dropped host answers nothing: the connect hangs until `timeout` ends it with its 124.
      expect((await execInHost(h1, probe)).code).toBe(124);
    } finally {
      await undropHost(victim);
    }
    expect((await execInHost(h1, probe)).code).toBe(0);
    expect((await ssh(info, victim, "true")).code).toBe(0);
  });

  it("refuses a fault on a host this process has not leased: calm hosts stay calm", async () => {
    const refused = /is not a fault host leased by this process/;
    await expect(cutLink(h1)).rejects.toThrow(refused);
    await expect(dropHost(h1)).rejects.toThrow(refused);
    await expect(slowLink(h2)).rejects.toThrow(refused);
    await expect(killSessions(h2)).rejects.toThrow(refused);
    // Not even a fault host of the pool that another test holds (or nobody does).
    for (const host of info.faultHosts) await expect(cutLink(host)).rejects.toThrow(refused);
    expect((await ssh(info, h1, "true", ["-o", "ConnectTimeout=2"])).code).toBe(0);
  });

  it("a reset puts a faulted host back as new: link, drops, rate caps and leftover processes", async () => {
    const victim = await leaseFaultHost();
    const names = defaultNames();
    const tag = `sleep 4${process.pid % 1000}9`;
    const session = ssh(info, victim, tag);
    for (let i = 0; i < 100 && !processesInHost(victim).some((p) => p.cmdline === tag); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(processesInHost(victim).some((p) => p.cmdline === tag)).toBe(true);
    await slowHostSending(victim, "1mbit");
    await slowLink(victim);
    await dropHost(victim);
    await cutLink(victim);
    await resetFaultHost(victim);
    expect((await session).code).toBe(255);
    expect(processesInHost(victim).map((p) => p.cmdline)).toEqual([
      expect.stringContaining("sshd"),
    ]);
    expect((await execInHost(victim, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).not.toContain(
      "tbf",
    );
    expect(
      (
        await run([
          "tc",
          "qdisc",
          "show",
          "dev",
          `${names.vethPrefix}${victim.slice(names.hostPrefix.length)}`,
        ])
      ).stdout,
    ).not.toContain("tbf");
    expect((await ssh(info, victim, "hostname")).stdout.trim()).toBe(victim);
  });
});

describe("test bed: fault host leases", () => {
  // A state dir of its own and made-up host names: only the lease files are exercised here.
  let stateDir: string;
  beforeAll(() => {
    stateDir = mkdtempSync(join("/var/tmp", "offload-tb-leases-"));
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("gives each lease its own host, waits while all are held, and names who holds them", async () => {
    const pool = ["fa", "fb"];
    const first = await acquireFaultHost(stateDir, pool, { holder: "one" });
    const second = await acquireFaultHost(stateDir, pool, { holder: "two" });
    expect([first, second].sort()).toEqual(pool);
    await expect(
      acquireFaultHost(stateDir, pool, { holder: "three", waitMs: 300 }),
    ).rejects.toThrow(
      `all 2 fault hosts stayed leased for 0 s: fa by pid ${process.pid} (${first === "fa" ? "one" : "two"}); fb by pid ${process.pid}`,
    );
    expect(
      await acquireFaultHost(stateDir, pool, { holder: "x", cancelled: () => true }),
    ).toBeUndefined();
    releaseFaultHost(stateDir, second ?? "");
    expect(await acquireFaultHost(stateDir, pool, { holder: "three" })).toBe(second);
    releaseFaultHost(stateDir, "fa");
    releaseFaultHost(stateDir, "fb");
  });

  it("respects another live process's lease and takes over a dead one's", async () => {
    const script = [
      `import { acquireFaultHost } from ${JSON.stringify(join(process.cwd(), "test/testbed/fault-lease.ts"))};`,
      `await acquireFaultHost(${JSON.stringify(stateDir)}, ["fc"], { holder: "the child" });`,
      `process.stdout.write("held\\n");`,
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const child = spawn("node", ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("held") && resolve());
        child.on("exit", (code) =>
          reject(new Error(`the child exited (${code}) before its lease`)),
        );
      });
      await expect(
        acquireFaultHost(stateDir, ["fc"], { holder: "me", waitMs: 300 }),
      ).rejects.toThrow(`fc by pid ${child.pid} (the child)`);
    } finally {
      child.kill("SIGKILL");
    }
    await exited;
    expect(await acquireFaultHost(stateDir, ["fc"], { holder: "me", waitMs: 0 })).toBe("fc");
    releaseFaultHost(stateDir, "fc");
  });
});

/** A second bed's names, so these tests never touch the shared one other files are using. */
function privateNames(tag: string): TestbedNames {
  return {
    ...defaultNames(),
    stateDir: mkdtempSync(join("/var/tmp", `offload-tb-${tag}-`)),
    bridge: `offload-${tag}br`,
    hostPrefix: `offload-${tag}`,
    vethPrefix: `veth-${tag}`,
    nftTable: `offload_${tag}`,
  };
}

/** The env the CLI reads its names from: all of them, or it would act on the shared bed. */
function namesEnv(names: TestbedNames): Record<string, string> {
  return {
    OFFLOAD_TB_DIR: names.stateDir,
    OFFLOAD_TB_BRIDGE: names.bridge,
    OFFLOAD_TB_PREFIX: names.hostPrefix,
    OFFLOAD_TB_VETH: names.vethPrefix,
    OFFLOAD_TB_NFT: names.nftTable,
  };
}

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot || useTestbed().mode !== "netns")("test bed: down", () => {
  // Made when the block runs, not at collection, so a skipped or killed run leaves no dir behind.
  let names: TestbedNames;
  let made = false;
  beforeAll(() => {
    names = privateNames("zt");
    made = true;
  });
  afterAll(() => {
    // Never down() with undefined: its default names are the shared bed.
    if (!made) return;
    down(names);
    rmSync(names.stateDir, { recursive: true, force: true });
  });

  /** Namespace of host k with a stray process inside, its inode recorded as up() does. */
  function strayHost(k: number | string, address?: string): number {
    const ns = `${names.hostPrefix}${k}`;
    runSync(["ip", "netns", "add", ns]);
    if (address !== undefined)
      runSync(["ip", "-n", ns, "addr", "add", `${address}/24`, "dev", "lo"]);
    mkdirSync(join(names.stateDir, `h${k}`), { recursive: true });
    writeFileSync(
      join(names.stateDir, `h${k}`, "netns_inode"),
      `${netInodeOfPath(`/run/netns/${ns}`)}\n`,
    );
    const child = spawn("nsenter", [`--net=/run/netns/${ns}`, "sleep", "1000"], {
      detached: true,
      stdio: "ignore",
    });
    child.unref();
    return child.pid ?? 0;
  }

  it("kills every process of its namespaces, also of one deleted by hand, and removes all", () => {
    const named = strayHost(1);
    // Host 200 has address .201: down recognises the anonymous namespace by it.
    const orphan = strayHost(200, "10.200.1.201");
    runSync(["ip", "netns", "del", `${names.hostPrefix}200`]);
    // Fault host 2 (.232), its namespace deleted by hand too, and a fault host's veth.
    const faultOrphan = strayHost("f2", "10.200.1.232");
    runSync(["ip", "netns", "del", `${names.hostPrefix}f2`]);
    const fault = strayHost("f1");
    runSync([
      "ip",
      "link",
      "add",
      `${names.vethPrefix}f1`,
      "type",
      "veth",
      "peer",
      "name",
      "zt-peerf1",
    ]);
    runSync(["ip", "link", "add", names.bridge, "type", "bridge"]);
    runSync([
      "ip",
      "link",
      "add",
      `${names.vethPrefix}7`,
      "type",
      "veth",
      "peer",
      "name",
      "zt-peer7",
    ]);

    down(names);

    expect(isGone(named)).toBe(true);
    expect(isGone(orphan)).toBe(true);
    expect(isGone(faultOrphan)).toBe(true);
    expect(isGone(fault)).toBe(true);
    expect(runSync(["ip", "netns", "list"]).stdout).not.toContain(names.hostPrefix);
    expect(runSync(["ip", "-o", "link", "show"]).stdout).not.toMatch(
      /offload-ztbr|veth-zt7|veth-ztf1/,
    );
  });

  it("is idempotent, also from the CLI", () => {
    down(names);
    const cli = runSync(["node", "--import", "tsx", "test/testbed/cli.ts", "down"], {
      env: { ...process.env, ...namesEnv(names) },
    });
    expect(cli.code).toBe(0);
  });
});

describe.skipIf(useTestbed().mode === "none")("test bed: loopback fallback", () => {
  // Made when the block runs, not at collection, so a skipped or killed run leaves no dir behind.
  let names: TestbedNames;
  let made = false;
  beforeAll(() => {
    names = privateNames("lt");
    made = true;
  });
  afterAll(() => {
    // Never down() with undefined: its default names are the shared bed.
    if (!made) return;
    down(names);
    rmSync(names.stateDir, { recursive: true, force: true });
  });

  it("serves one host on 127.0.0.1; faults say they need root", async () => {
    const info = await upLoopback(names, "test");
    expect(info).toMatchObject({ mode: "loopback", hosts: [`${names.hostPrefix}1`] });
    expect(await ssh(info, `${names.hostPrefix}1`, "echo ok")).toMatchObject({
      code: 0,
      stdout: "ok\n",
    });
    await expect(cutLink(`${names.hostPrefix}1`, names)).rejects.toThrow(
      /needs root and network namespaces/,
    );
    down(names);
    expect((await ssh(info, `${names.hostPrefix}1`, "true")).code).toBe(255);
  });
});

describe("test bed: pure parts", () => {
  it("finds addresses and routes that overlap the subnet on other devices", () => {
    const addrs = [
      "1: lo    inet 127.0.0.1/8 scope host lo",
      "5: offload-br0    inet 10.200.1.1/24 scope global offload-br0",
      "6: wg0    inet 10.200.0.5/16 scope global wg0",
    ].join("\n");
    const routes = [
      "default via 192.0.2.1 dev eth0",
      "10.200.1.0/24 dev offload-br0 proto kernel scope link src 10.200.1.1",
      "10.200.1.64/26 via 192.0.2.9 dev eth0",
      "local 10.200.1.1 dev offload-br0 table local proto kernel scope host src 10.200.1.1",
    ].join("\n");
    const conflicts = findSubnetConflicts(addrs, routes, "10.200.1", "offload-br0");
    expect(conflicts.map((c) => c.dev)).toEqual(["wg0", "eth0"]);
    expect(findSubnetConflicts(addrs.split("\n")[1] ?? "", "", "10.200.1", "offload-br0")).toEqual(
      [],
    );
  });

  it("picks the drop rules of one host by handle, not those of a longer-named one", () => {
    const listing = [
      "table inet offload_tb { # handle 7",
      "\tchain tb_out { # handle 1",
      "\t\ttype filter hook output priority filter; policy accept;",
      '\t\tip daddr 10.200.1.3 drop comment "offload-h2" # handle 4',
      '\t\tip daddr 10.200.1.21 drop comment "offload-h20" # handle 5',
      "\t}",
      "\tchain tb_in { # handle 2",
      '\t\tip saddr 10.200.1.3 drop comment "offload-h2" # handle 6',
      "\t}",
      "}",
    ].join("\n");
    expect(ruleHandles(listing, "tb_out", "offload-h2")).toEqual([4]);
    expect(ruleHandles(listing, "tb_in", "offload-h2")).toEqual([6]);
  });
});
