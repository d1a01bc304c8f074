// The test bed's surface for test files and benchmarks: re-exports only.

export { describeWithHosts, type HostNeeds, useTestbed, whyUnavailable } from "./context.js";
export { down } from "./down.js";
export {
  cutLink,
  dropHost,
  healLink,
  killSessions,
  slowLink,
  undropHost,
  unslowLink,
} from "./faults.js";
export { execInHost, processesInHost, sessionPids } from "./inspect.js";
export { upLoopback } from "./loopback.js";
export { defaultNames, type TestbedNames } from "./names.js";
export { startTestbed } from "./start.js";
export type { ExecResult, HostProcess, TestbedInfo, TestbedMode } from "./types.js";
export { TestbedError } from "./types.js";
export { up } from "./up.js";
