// The remote environment's public surface: host probe, GPU choice, cached Python env, secrets.

export { type GpuPlan, planGpus } from "./gpu-plan.js";
export {
  buildGpuEnv,
  cudaVisibleDevices,
  GPU_QUERY_ARGS,
  type GpuInfo,
  parseGpuQuery,
  pickGpus,
} from "./gpus.js";
export { checkRequirementPath, type EnvInputFile, hashEnvInputs } from "./inputs.js";
export { buildProbeScript, type HostFacts, parseProbe } from "./probe.js";
export {
  buildEnvPruneScript,
  type PrunedEnv,
  type PruneOptions,
  parsePruneOutput,
} from "./prune.js";
export {
  buildSecretsReceiveLines,
  buildSecretsSourceLines,
  encodeSecretsFile,
  type ReadSecretFile,
  resolveSecrets,
  SECRETS_FILE,
} from "./secrets.js";
export { buildEnvScript, DEFAULT_ENV_ROOT, ENV_READY_FILE, type EnvPlan } from "./venv.js";
export {
  buildActivateLines,
  type EnvResult,
  explainEnvFailure,
  parseEnvResult,
} from "./venv-result.js";
