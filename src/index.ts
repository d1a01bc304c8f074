// The public library surface: re-exports only.

export type { Backend } from "./backends/types.js";
export { type HostTarget, parseHost } from "./config/host.js";
export { loadSettings } from "./config/load.js";
export { resolveSettings } from "./config/resolve.js";
export { toJsonSchema } from "./config/schema.js";
export type { EffectiveSettings, LoadedSettings, Source } from "./config/settings.js";
export type { HostSource, RunContext, RunSettings } from "./context.js";
export { createRunContext, createStore, createTransport, toRunSettings } from "./create.js";
export { type ErrorCode, EXIT_CODES, OffloadError } from "./errors.js";
export type { Reporter, RunEvent } from "./events.js";
export type { MetricEvent, ParsedEvent, ProgressEvent } from "./progress/index.js";
export { createLogParser, parseLogText } from "./progress/index.js";
export { findProjectDir } from "./project.js";
export type { RunRecord, RunStatus } from "./runs/record.js";
export { openRunStore, type RunStore } from "./runs/store.js";
export { type CheckResult, checkHost } from "./session/check.js";
export { type RunRequest, runJob } from "./session/run.js";
export { LocalTransport } from "./transport/local.js";
export { SshTransport } from "./transport/ssh.js";
export type { Transport } from "./transport/types.js";
