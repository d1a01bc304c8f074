// Owns bringing N namespaced hosts up (or re-probing them when already up), per TESTBED.md.

import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { downUnlocked, recordedInode, removeHosts } from "./down.js";
import {
  ensureKey,
  publicKeyBody,
  sshConfigText,
  sshdConfigText,
  writeAtomic,
  writeInPlace,
} from "./files.js";
import { describeBed } from "./info.js";
import { withLock } from "./lock.js";
import {
  clientFiles,
  defaultNames,
  faultHostIndex,
  gatewayAddress,
  hostAddress,
  hostDir,
  hostName,
  isFaultIndex,
  MAX_FAULT_HOSTS,
  MAX_HOSTS,
  type TestbedNames,
  vethName,
} from "./names.js";
import {
  createHostNetwork,
  ensureBridge,
  linkMaster,
  listHostNamespaces,
  netnsPath,
} from "./network.js";
import { isGone, netInodeOfPath, netInodeOfPid } from "./procfs.js";
import { type LaunchedSshd, launchNamespacedSshd, readSshdPid, waitUntilServing } from "./sshd.js";
import { readState, writeState } from "./state.js";
import { checkSubnetFree } from "./subnet.js";
import { TestbedError, type TestbedInfo } from "./types.js";

export { MAX_HOSTS };

/**
 * Brings calm hosts 1..n and fault hosts 1..faultHosts up; healthy ones are only re-probed, others
 * are removed. Needs root.
 */
export async function up(
  n: number,
  names: TestbedNames = defaultNames(),
  faultHosts = 0,
): Promise<TestbedInfo> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) {
    throw new TestbedError(`host count must be 1..${MAX_HOSTS}, got ${n}`);
  }
  if (!Number.isInteger(faultHosts) || faultHosts < 0 || faultHosts > MAX_FAULT_HOSTS) {
    throw new TestbedError(`fault host count must be 0..${MAX_FAULT_HOSTS}, got ${faultHosts}`);
  }
  if (process.getuid?.() !== 0) throw new TestbedError("the namespaced test bed needs root");
  mkdirSync(names.stateDir, { recursive: true, mode: 0o700 });
  chmodSync(names.stateDir, 0o700);
  return withLock(names.stateDir, () => upUnlocked(n, faultHosts, names));
}

async function upUnlocked(
  n: number,
  faultHosts: number,
  names: TestbedNames,
): Promise<TestbedInfo> {
  if (readState(names.stateDir)?.mode === "loopback") downUnlocked(names);
  refuseTakenSubnet(names);
  ensureBridge(names);
  const clientPub = ensureKey(join(names.stateDir, "id_ed25519"), "offload-testbed-client");
  const calm = Array.from({ length: n }, (_, i) => i + 1);
  const pool = Array.from({ length: faultHosts }, (_, i) => faultHostIndex(i + 1));
  const ks = [...calm, ...pool];
  const extra = listHostNamespaces(names).filter((k) => !ks.includes(k));
  removeHosts(names, extra);
  writeInPlace(join(names.stateDir, "etc_hosts"), etcHostsText(names, ks));
  const hostKeys = ks.map((k) => prepareHostDir(names, k, clientPub));
  writeClientFiles(names, ks, hostKeys);
  writeState(names.stateDir, { mode: "netns", hosts: n });
  const launched = new Map<number, LaunchedSshd>();
  for (const k of ks) {
    if (isHealthy(names, k)) continue;
    removeHosts(names, [k]);
    launched.set(k, startHost(names, k));
  }
  const { sshConfig } = clientFiles(names);
  // A running fault host is not probed: a test of another run may hold it cut or dropped right now.
  const probed = ks.filter((k) => !isFaultIndex(k) || launched.has(k));
  await Promise.all(
    probed.map((k) =>
      waitUntilServing(hostName(names, k), sshConfig, hostDir(names, k), launched.get(k)),
    ),
  );
  return describeBed(
    names,
    "netns",
    calm.map((k) => hostName(names, k)),
    undefined,
    pool.map((k) => hostName(names, k)),
  );
}

function refuseTakenSubnet(names: TestbedNames): void {
  const conflicts = checkSubnetFree(names.subnet, names.bridge);
  if (conflicts.length === 0) return;
  const list = conflicts.map((c) => `${c.what} (dev ${c.dev})`).join("; ");
  throw new TestbedError(
    `${names.subnet}.0/24 is already in use on this machine: ${list}; refusing to start`,
  );
}

/** Keys and sshd_config of host k; returns its public host key. Host keys survive restarts. */
function prepareHostDir(names: TestbedNames, k: number, clientPub: string): string {
  const dir = hostDir(names, k);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostPub = ensureKey(join(dir, "ssh_host_ed25519_key"), hostName(names, k));
  writeAtomic(join(dir, "sshd_config"), sshdConfigText({ dir, port: 22, listen: "0.0.0.0" }));
  writeAtomic(join(dir, "authorized_keys"), `${clientPub}\n`);
  writeInPlace(join(dir, "hostname"), `${hostName(names, k)}\n`);
  return hostPub;
}

function writeClientFiles(names: TestbedNames, ks: number[], hostKeys: string[]): void {
  const { knownHosts, sshConfig } = clientFiles(names);
  const lines = ks.map(
    (k, i) => `${hostName(names, k)},${hostAddress(names, k)} ${publicKeyBody(hostKeys[i] ?? "")}`,
  );
  writeAtomic(knownHosts, `${lines.join("\n")}\n`);
  const config = sshConfigText({
    hosts: ks.map((k) => ({ alias: hostName(names, k), hostName: hostAddress(names, k) })),
    patterns: [`${names.hostPrefix}*`, `${names.subnet}.*`],
    user: "root",
    identityFile: join(names.stateDir, "id_ed25519"),
    knownHosts,
  });
  writeAtomic(sshConfig, config);
}

function etcHostsText(names: TestbedNames, ks: number[]): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    `${gatewayAddress(names)}\toffload-gw`,
    ...ks.map((k) => `${hostAddress(names, k)}\t${hostName(names, k)}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** Up means: namespace as recorded, its veth present, and the recorded sshd alive inside it. */
function isHealthy(names: TestbedNames, k: number): boolean {
  const inode = netInodeOfPath(netnsPath(hostName(names, k)));
  if (inode === undefined || inode !== recordedInode(names, k)) return false;
  // An older copy of this code taking the bed down deletes the bridge but leaves the fault hosts.
  if (linkMaster(vethName(names, k)) !== names.bridge) return false;
  const pid = readSshdPid(hostDir(names, k));
  return pid !== undefined && !isGone(pid) && netInodeOfPid(pid) === inode;
}

/** A fresh host: empty ~ and /tmp, new namespace, inode recorded for down(), sshd launched. */
function startHost(names: TestbedNames, k: number): LaunchedSshd {
  const dir = hostDir(names, k);
  for (const [sub, mode] of [
    ["root", 0o700],
    ["tmp", 0o1777],
  ] as const) {
    rmSync(join(dir, sub), { recursive: true, force: true });
    mkdirSync(join(dir, sub), { mode });
    chmodSync(join(dir, sub), mode);
  }
  rmSync(join(dir, "sshd.pid"), { force: true });
  createHostNetwork(names, k);
  const inode = netInodeOfPath(netnsPath(hostName(names, k)));
  writeFileSync(join(dir, "netns_inode"), `${inode ?? ""}\n`);
  const etcHosts = join(names.stateDir, "etc_hosts");
  return launchNamespacedSshd(netnsPath(hostName(names, k)), hostName(names, k), dir, etcHosts);
}
