// The remote environment's public surface: host probe and GPU choice.
export {
  buildGpuEnv,
  cudaVisibleDevices,
  GPU_QUERY_ARGS,
  type GpuInfo,
  parseGpuQuery,
  pickGpus,
} from "./gpus.js";
export { buildProbeScript, type HostFacts, parseProbe } from "./probe.js";
