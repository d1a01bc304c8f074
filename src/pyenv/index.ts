// The remote Python env's public surface: the cached venv script, its inputs' key, its result, pruning.

export { checkRequirementPath, type EnvInputFile, hashEnvInputs } from "./inputs.js";
export {
  buildEnvPruneScript,
  type PrunedEnv,
  type PruneOptions,
  parsePruneOutput,
} from "./prune.js";
export { buildEnvScript, DEFAULT_ENV_ROOT, ENV_READY_FILE, type EnvPlan } from "./venv.js";
export {
  buildActivateLines,
  type EnvResult,
  explainEnvFailure,
  parseEnvResult,
} from "./venv-result.js";
