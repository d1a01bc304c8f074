// Owns the fake cloud's real machines: each is a test-bed host (its own network namespace and sshd on
// the bed's bridge) in slots 100..199, apart from the bed's offload-h1..N so `up`/`down` of the bed
// never touch them, with the host key and authorized keys cloud-init would have installed.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSync } from "../../testbed/command.js";
import { removeHosts } from "../../testbed/down.js";
import { sshdConfigText, writeInPlace } from "../../testbed/files.js";
import { withLockSync } from "../../testbed/lock.js";
import {
  defaultNames,
  hostAddress,
  hostDir,
  hostName,
  type TestbedNames,
} from "../../testbed/names.js";
import { createHostNetwork, netnsPath } from "../../testbed/network.js";
import { isGone, killPid, netInodeOfPath, pidsInNetns } from "../../testbed/procfs.js";
import { launchNamespacedSshd, readSshdPid } from "../../testbed/sshd.js";

/**
 * What `shutdown -h now` is on the fake's machines (they share the real machine's file system, where a
 * real shutdown must never run): the machine marks itself powered off, and the fake Nova halts it.
 */
export function powerOffCommand(names: TestbedNames = cloudNames()): string {
  return `n=$(hostname); : >${names.stateDir}/h\${n#${names.hostPrefix}}/powered-off`;
}

const FIRST_SLOT = 100;
const LAST_SLOT = 199;

export interface MachineKeys {
  /** ed25519 private host key (OpenSSH format), as cloud-init's ssh_keys.ed25519_private. */
  hostKey: string;
  authorizedKeys: string[];
}

/** The names of the fake cloud's hosts: the bed's bridge and /24, its own prefix and state dir. */
export function cloudNames(): TestbedNames {
  return {
    ...defaultNames(),
    stateDir: process.env.OFFLOAD_FAKE_CLOUD_DIR ?? "/var/tmp/offload-cloud",
    hostPrefix: "offload-c",
    vethPrefix: "veth-c",
  };
}

export class CloudHosts {
  /** `names`: the fake cloud's own, or a test's that names no real machine. */
  constructor(readonly names: TestbedNames = cloudNames()) {}

  /**
   * Takes a free slot; a slot whose owner died is cleaned first. Under the fake cloud's lock: fake clouds
   * of parallel test files allocate at once, and one that found a slot another had just made, before
   * its owner file, took it for a dead one's and removed it, the two then booting one machine (one
   * name, one address, one host dir). A slot with no owner file is being given back: not taken.
   */
  allocate(): number {
    return withLockSync(this.names.stateDir, () => {
      mkdirSync(join(this.names.stateDir, "slots"), { recursive: true, mode: 0o700 });
      for (let k = FIRST_SLOT; k <= LAST_SLOT; k++) {
        const slot = join(this.names.stateDir, "slots", String(k));
        try {
          mkdirSync(slot);
        } catch {
          const owner = Number(readOr(join(slot, "owner"), "0"));
          if (owner === 0 || !isGone(owner)) continue;
          this.remove(k);
          try {
            mkdirSync(slot);
          } catch {
            continue;
          }
        }
        writeFileSync(join(slot, "owner"), String(process.pid));
        return k;
      }
      throw new Error("the fake cloud has no free slot (100..199)");
    });
  }

  /** Removes the machines of fake clouds whose test process died (killed vitest, crash). */
  sweep(): void {
    withLockSync(this.names.stateDir, () => {
      for (let k = FIRST_SLOT; k <= LAST_SLOT; k++) {
        const owner = Number(readOr(join(this.names.stateDir, "slots", String(k), "owner"), "0"));
        if (owner > 0 && isGone(owner)) this.remove(k);
      }
    });
  }

  address(k: number): string {
    return hostAddress(this.names, k);
  }

  /** Boots machine k: fresh ~ and /tmp, the given keys, a namespace on the bed's bridge, sshd. */
  boot(k: number, keys: MachineKeys, withSshd = true): void {
    const dir = hostDir(this.names, k);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [sub, mode] of [
      ["root", 0o700],
      ["tmp", 0o1777],
    ] as const) {
      mkdirSync(join(dir, sub), { mode });
      chmodSync(join(dir, sub), mode);
    }
    writeFileSync(join(dir, "ssh_host_ed25519_key"), ensureNewline(keys.hostKey), { mode: 0o600 });
    writeFileSync(join(dir, "sshd_config"), sshdConfigText({ dir, port: 22, listen: "0.0.0.0" }));
    writeFileSync(join(dir, "authorized_keys"), keys.authorizedKeys.map(ensureNewline).join(""));
    writeFileSync(join(dir, "hostname"), `${hostName(this.names, k)}\n`);
    writeInPlace(join(this.names.stateDir, "etc_hosts"), "127.0.0.1\tlocalhost\n");
    createHostNetwork(this.names, k);
    this.forgetNeighbour(k);
    const inode = netInodeOfPath(netnsPath(hostName(this.names, k)));
    writeFileSync(join(dir, "netns_inode"), `${inode ?? ""}\n`);
    if (withSshd) this.startSshd(k);
  }

  /** A stopped machine keeps its network and disk; only its processes go (as a shutdown). */
  halt(k: number): void {
    const inode = netInodeOfPath(netnsPath(hostName(this.names, k)));
    if (inode === undefined) return;
    for (let round = 0; round < 200; round++) {
      const pids = pidsInNetns(new Set([inode]));
      if (pids.length === 0) break;
      for (const pid of pids) killPid(pid);
    }
    rmSync(join(hostDir(this.names, k), "sshd.pid"), { force: true });
  }

  startSshd(k: number): void {
    const dir = hostDir(this.names, k);
    const name = hostName(this.names, k);
    launchNamespacedSshd(netnsPath(name), name, dir, join(this.names.stateDir, "etc_hosts"));
  }

  /** Whether machine k powered itself off (POWER_OFF_COMMAND ran on it); the mark is taken. */
  takePowerOff(k: number): boolean {
    const mark = join(hostDir(this.names, k), "powered-off");
    try {
      rmSync(mark);
      return true;
    } catch {
      return false;
    }
  }

  isServing(k: number): boolean {
    const pid = readSshdPid(hostDir(this.names, k));
    return pid !== undefined && !isGone(pid);
  }

  /** Everything of machine k goes: its processes, namespace, veth and slot. */
  remove(k: number): void {
    removeHosts(this.names, [k]);
    this.forgetNeighbour(k);
    rmSync(join(this.names.stateDir, "slots", String(k)), { recursive: true, force: true });
  }

  /**
   * A slot reused by a new machine has a new MAC behind the same address: the bridge's stale neighbour
   * entry would make connections hang for ~30 s until it is probed again (seen with parallel files).
   */
  private forgetNeighbour(k: number): void {
    runSync(["ip", "neigh", "flush", "to", this.address(k), "dev", this.names.bridge]);
  }

  /** Whether machine k's namespace still exists: the fake's own proof a delete really happened. */
  exists(k: number): boolean {
    return netInodeOfPath(netnsPath(hostName(this.names, k))) !== undefined;
  }
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}
