// Decides which GPUs a run sees from what it asked for and what the host reported, before anything
// starts: a run that wants GPUs the host lacks fails here with a hint, not later inside the job.
import { OffloadError } from "../errors.js";
import { buildGpuEnv, type GpuInfo, pickGpus } from "./gpus.js";
import type { HostFacts } from "./probe.js";

export interface GpuPlan {
  /** Variables for the job; empty when the run asked for no particular count. */
  env: Record<string, string>;
  /** The GPUs the job will see: the picked ones, or every GPU when no count was asked for. */
  gpus: GpuInfo[];
}

/**
 * `requested` undefined: the job sees every GPU and nothing is set. `0`: CUDA_VISIBLE_DEVICES is set
 * empty so the job runs on the CPU even on a GPU host. `n`: the n least busy GPUs (`pickGpus`).
 */
export function planGpus(requested: number | undefined, facts: HostFacts): GpuPlan {
  if (requested === undefined) return { env: {}, gpus: [...facts.gpus] };
  if (requested > 0 && facts.gpus.length === 0 && facts.gpuError !== undefined) {
    throw new OffloadError(
      "E_GPU",
      `The run asks for ${requested} GPU(s) but nvidia-smi fails on the host: ${facts.gpuError}`,
      {
        hint: "Check the NVIDIA driver on the host (`nvidia-smi` must work there), or run without --gpus to use the CPU.",
      },
    );
  }
  const picked = pickGpus(facts.gpus, requested);
  return { env: buildGpuEnv(picked), gpus: picked };
}
