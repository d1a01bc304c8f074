// The public library surface: re-exports only.
export { findProjectDir } from "./project.js";
export { loadSettings } from "./config/load.js";
export { parseHost, type HostTarget } from "./config/host.js";
export { resolveSettings } from "./config/resolve.js";
export type { EffectiveSettings, LoadedSettings, Source } from "./config/settings.js";
export { toJsonSchema } from "./config/schema.js";
export { createStore, createTransport, toRunSettings } from "./create.js";
export { OffloadError, EXIT_CODES, type ErrorCode } from "./errors.js";
export type { Reporter, RunEvent } from "./events.js";
export { createLogParser, parseLogText } from "./progress/index.js";
export type { ParsedEvent, ProgressEvent, MetricEvent } from "./progress/index.js";
export type { RunRecord, RunStatus } from "./runs/record.js";
export { openRunStore, type RunStore } from "./runs/store.js";
export { checkHost, type CheckResult } from "./session/check.js";
export { runJob, type RunRequest, type RunSettings } from "./session/run.js";
export { LocalTransport } from "./transport/local.js";
export { SshTransport } from "./transport/ssh.js";
export type { Transport } from "./transport/types.js";
