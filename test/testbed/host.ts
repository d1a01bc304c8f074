// Owns resolving a host alias to everything a fault or an inspection needs, refusing without netns.

import {
  hostAddress,
  hostDir,
  hostName,
  isFaultIndex,
  parseHostIndex,
  type TestbedNames,
  vethName,
} from "./names.js";
import { isGone } from "./procfs.js";
import { readSshdPid } from "./sshd.js";
import { readState } from "./state.js";
import { TestbedError } from "./types.js";

export interface BedHost {
  k: number;
  name: string;
  address: string;
  veth: string;
  dir: string;
}

/** Throws a clear error unless `host` is a host of a namespaced bed that is up. */
export function resolveHost(names: TestbedNames, host: string, feature: string): BedHost {
  const state = readState(names.stateDir);
  if (state?.mode !== "netns") {
    const now = state === undefined ? "no bed is up" : `the bed runs in ${state.mode} mode`;
    throw new TestbedError(
      `${feature} needs root and network namespaces (${now} in ${names.stateDir})`,
    );
  }
  const k = parseHostIndex(names, host);
  // Fault hosts are not counted in state.json (older copies of this code rewrite it without them).
  if (k === undefined || (!isFaultIndex(k) && k > state.hosts)) {
    throw new TestbedError(
      `${feature}: ${host} is not a host of the bed (hosts 1..${state.hosts})`,
    );
  }
  return {
    k,
    name: hostName(names, k),
    address: hostAddress(names, k),
    veth: vethName(names, k),
    dir: hostDir(names, k),
  };
}

/** The listening sshd: its namespaces are the host's, so nsenter -t <it> enters the host. */
export function listenerPid(host: BedHost): number {
  const pid = readSshdPid(host.dir);
  if (pid === undefined || isGone(pid)) {
    throw new TestbedError(`${host.name}: sshd is not running (see ${host.dir}/sshd.log)`);
  }
  return pid;
}
