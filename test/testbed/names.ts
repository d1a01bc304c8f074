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

export function hostName(names: TestbedNames, k: number): string {
  return `${names.hostPrefix}${k}`;
}

export function hostAddress(names: TestbedNames, k: number): string {
  return `${names.subnet}.${k + 1}`;
}

export function gatewayAddress(names: TestbedNames): string {
  return `${names.subnet}.1`;
}

export function vethName(names: TestbedNames, k: number): string {
  return `${names.vethPrefix}${k}`;
}

export function hostDir(names: TestbedNames, k: number): string {
  return join(names.stateDir, `h${k}`);
}

/** The host number k of `offload-hk`, or undefined when the name is not one of this bed's. */
export function parseHostIndex(names: TestbedNames, host: string): number | undefined {
  if (!host.startsWith(names.hostPrefix)) return undefined;
  const rest = host.slice(names.hostPrefix.length);
  return /^[1-9][0-9]*$/.test(rest) ? Number(rest) : undefined;
}
