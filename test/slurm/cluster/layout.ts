// Owns every name and path of the suite's Slurm cluster: a bed of its own (bridge, /24, namespaces)
// beside the SSH test bed, a login node and two compute nodes, and the daemons' files.

import { join } from "node:path";
import type { TestbedNames } from "../../testbed/index.js";

/** The cluster's own bed, so it never touches the hosts other test files fault and fill. */
export const SLURM_BED: TestbedNames = {
  stateDir: "/var/tmp/offload-slurm",
  bridge: "slurm-br0",
  hostPrefix: "slurm-h",
  vethPrefix: "veth-sh",
  nftTable: "offload_slurm",
  subnet: "10.201.1",
};

/** Host 1 is the login node (sshd only); hosts 2.. are compute nodes (sshd + slurmd). */
export const LOGIN = "slurm-h1";
export const COMPUTE_HOSTS = 2;
export const CONTROLLER = { name: "slurm-ctl", address: `${SLURM_BED.subnet}.1` };

export interface ComputeNode {
  k: number;
  name: string;
  address: string;
}

export function computeNodes(): ComputeNode[] {
  return Array.from({ length: COMPUTE_HOSTS }, (_, i) => ({
    k: i + 2,
    name: `${SLURM_BED.hostPrefix}${i + 2}`,
    address: `${SLURM_BED.subnet}.${i + 3}`,
  }));
}

/**
 * Daemon files, outside the bed's state dir (mode 700): munged wants every dir above its socket open
 * to all. The hosts share this file system (only /root and /tmp are private to each).
 */
export const SLURM_DIR = "/var/tmp/offload-slurm-cluster";
export const CONF_DIR = join(SLURM_DIR, "etc");
export const SLURM_CONF = join(CONF_DIR, "slurm.conf");
export const MUNGE_SOCKET = join(SLURM_DIR, "run", "munge.sock");
/** Remote dirs of the tests' runs: seen by the login node and every compute node. */
export const WORK_DIR = join(SLURM_BED.stateDir, "work");
/** Held for the cluster's whole life: a second test run waits instead of tearing it down under us. */
export const CLUSTER_LOCK = `${SLURM_BED.stateDir}.lock`;
