// What a host has: the probe script and its parser, nvidia-smi parsing, and the GPUs a run is given.

export { type GpuPlan, planGpus } from "./gpu-plan.js";
export {
  buildGpuEnv,
  cudaVisibleDevices,
  GPU_QUERY_ARGS,
  type GpuInfo,
  parseGpuQuery,
  pickGpus,
} from "./gpus.js";
export { buildProbeScript, type HostFacts, parseProbe } from "./probe.js";
