// The test bed's surface for test files and benchmarks: re-exports only.
//
// Host roles. `info.hosts` (offload-h1..hN) are calm: shared by every test file running at once, on
// this run and on other runs on the machine; a test only runs jobs there, in remote dirs of its own.
// A test that cuts, drops, slows or kills sessions of a host, or changes its state (mounts, qdiscs,
// ~/.bashrc), does it on a fault host it leased: `await leaseFaultHost()` inside a test (its alone
// until the test ends) or `useFaultHost()` at describe level (for set-up shared by its tests). The
// pool (offload-hf1..hf4) is leased across processes (test/testbed/fault-lease.ts), reset when taken
// and given back, and the fault helpers below refuse a host the calling process has not leased.

export {
  describeWithHosts,
  type HostNeeds,
  leaseFaultHost,
  useFaultHost,
  useTestbed,
  whyUnavailable,
} from "./context.js";
export { down } from "./down.js";
export {
  cutLink,
  dropHost,
  healLink,
  killSessions,
  slowHostSending,
  slowLink,
  undropHost,
  unslowHostSending,
  unslowLink,
} from "./faults.js";
export { execInHost, processesInHost, sessionPids } from "./inspect.js";
export { upLoopback } from "./loopback.js";
export { defaultNames, type TestbedNames } from "./names.js";
export { startTestbed } from "./start.js";
export type { ExecResult, HostProcess, TestbedInfo, TestbedMode } from "./types.js";
export { TestbedError } from "./types.js";
export { up } from "./up.js";
