// The public surface of config: host strings, the settings schema, loading, merging, describing.

export type { DownloadEntry, UploadEntry } from "../sync/entries.js";
export { type DescribedValue, describeSettings, formatSource } from "./describe.js";
export { formatHost, HOST_GRAMMAR, type HostTarget, parseHost } from "./host.js";
export { type ConfigProblem, formatKeyPath } from "./issues.js";
export {
  findUserSettingsFile,
  type LoadOptions,
  labelFile,
  loadSettings,
  PROJECT_FILE,
} from "./load.js";
export { deriveProjectName, type MergeInput, mergeSettings } from "./merge.js";
export { type ParsedSettingsFile, parseSettingsText } from "./parse-file.js";
export {
  applySshResolved,
  type Connection,
  type ResolvedSettings,
  resolveSettings,
} from "./resolve.js";
export {
  type Settings,
  type SettingsFile,
  settingsFileSchema,
  type TargetSettings,
  toJsonSchema,
} from "./schema.js";
export {
  DEFAULT_RECONNECT_TIMEOUT_SECONDS,
  defaultRemoteDir,
  type EffectiveSettings,
  type LoadedSettings,
  type SettingsLayer,
  type Source,
} from "./settings.js";
export { suggestKey } from "./suggest.js";
export { validateSettings } from "./validate.js";
