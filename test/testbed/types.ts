// Owns the shapes the test bed hands to tests and helpers.

export type TestbedMode = "netns" | "loopback" | "none";

export interface TestbedInfo {
  mode: TestbedMode;
  /** ssh aliases of the hosts that are up, usable with `ssh -F sshConfig`. */
  hosts: string[];
  /** The fault pool: never used directly, only through leaseFaultHost()/useFaultHost(). */
  faultHosts: string[];
  /** Path usable as `ssh -F`, or as an `Include` atop a config the test controls. */
  sshConfig: string;
  knownHosts: string;
  identityFile: string;
  stateDir: string;
  /** Why the bed is reduced (fewer hosts, no faults, or none at all). */
  reason?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostProcess {
  pid: number;
  /** argv as read from /proc/P/cmdline. */
  argv: string[];
  cmdline: string;
}

/** A test-bed failure; the message says what to do when a human must act. */
export class TestbedError extends Error {
  override readonly name = "TestbedError";
}
