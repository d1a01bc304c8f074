// Owns every name the test bed puts on the machine (state dir, bridge, namespaces, veths, nft tables).

import { join } from "node:path";

export interface TestbedNames {
  /** Private state dir (mode 700); not /tmp, which each host replaces with its own. */
  stateDir: string;
  bridge: string;
  /** Namespace and ssh alias of host k is `${hostPrefix}${k}`. */
  hostPrefix: string;
  /** Root-side veth of host k is `${vethPrefix}${k}` (interface names are capped at 15 chars). */
  vethPrefix: string;
  /** nft table name, used in both the inet and the bridge family. */
  nftTable: string;
  /** First three octets of the /24; the gateway is .1 and host k is .(k+1). */
  subnet: string;
}

/** The one subnet tests may use besides loopback. */
export const TESTBED_SUBNET = "10.200.1";

/** The names every test run shares; env vars let a human or a test run a second, separate bed. */
export function defaultNames(env: NodeJS.ProcessEnv = process.env): TestbedNames {
  const uid = process.getuid?.() ?? 0;
  return {
    stateDir:
      env.OFFLOAD_TB_DIR ?? (uid === 0 ? "/var/tmp/offload-tb" : `/var/tmp/offload-tb-${uid}`),
    bridge: env.OFFLOAD_TB_BRIDGE ?? "offload-br0",
    hostPrefix: env.OFFLOAD_TB_PREFIX ?? "offload-h",
    vethPrefix: env.OFFLOAD_TB_VETH ?? "veth-h",
    nftTable: env.OFFLOAD_TB_NFT ?? "offload_tb",
    subnet: TESTBED_SUBNET,
  };
}

/**
 * The fault pool: hosts that tests lease one at a time to cut, drop, slow or reconfigure, so no fault
 * ever lands on a host another test file is using. Fault host j is `${hostPrefix}f${j}` (offload-hf1),
 * address .(230+j), and internally host number FAULT_BASE + j, so up/down handle both kinds alike.
 * The `f` keeps them out of reach of older copies of this code, which remove hosts beyond their count.
 */
export const FAULT_BASE = 1000;
export const MAX_FAULT_HOSTS = 9;
/** Calm hosts are 1..MAX_HOSTS, addresses up to .201; the pool's start at .231. */
export const MAX_HOSTS = 200;

export function faultHostIndex(j: number): number {
  return FAULT_BASE + j;
}

export function isFaultIndex(k: number): boolean {
  return k > FAULT_BASE;
}

/** `offload-hk` for calm host k, `offload-hfj` for fault host j (k = FAULT_BASE + j). */
export function hostName(names: TestbedNames, k: number): string {
  return `${names.hostPrefix}${hostSuffix(k)}`;
}

export function hostAddress(names: TestbedNames, k: number): string {
  return `${names.subnet}.${isFaultIndex(k) ? 230 + (k - FAULT_BASE) : k + 1}`;
}

function hostSuffix(k: number): string {
  return isFaultIndex(k) ? `f${k - FAULT_BASE}` : String(k);
}

export function gatewayAddress(names: TestbedNames): string {
  return `${names.subnet}.1`;
}

export function vethName(names: TestbedNames, k: number): string {
  return `${names.vethPrefix}${hostSuffix(k)}`;
}

export function hostDir(names: TestbedNames, k: number): string {
  return join(names.stateDir, `h${hostSuffix(k)}`);
}

/**
 * The client files tests use (`ssh -F`). Not the `ssh_config`/`known_hosts` of older copies of this code:
 * those rewrite them without the fault pool whenever they start, which broke ssh to a leased host.
 */
export function clientFiles(names: TestbedNames): { sshConfig: string; knownHosts: string } {
  return {
    sshConfig: join(names.stateDir, "client_ssh_config"),
    knownHosts: join(names.stateDir, "client_known_hosts"),
  };
}

/** Host number k of a `hk`/`hfj` host dir name, or undefined. */
export function parseHostDir(entry: string): number | undefined {
  const match = /^h(f?)([1-9]\d*)$/.exec(entry);
  if (match?.[2] === undefined) return undefined;
  return toIndex(match[1] === "f", Number(match[2]));
}

/** Host number k of `offload-hk` or `offload-hfj`, or undefined when the name is not one of this bed's. */
export function parseHostIndex(names: TestbedNames, host: string): number | undefined {
  if (!host.startsWith(names.hostPrefix)) return undefined;
  const match = /^(f?)([1-9][0-9]*)$/.exec(host.slice(names.hostPrefix.length));
  if (match?.[2] === undefined) return undefined;
  return toIndex(match[1] === "f", Number(match[2]));
}

function toIndex(fault: boolean, n: number): number | undefined {
  if (!fault) return n <= MAX_HOSTS ? n : undefined;
  return n <= MAX_FAULT_HOSTS ? faultHostIndex(n) : undefined;
}
