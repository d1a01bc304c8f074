import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OffloadError } from "../../src/errors.js";
import { type HostFacts, parseGpuQuery, planGpus } from "../../src/host/index.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "nvidia-smi");

function hostWith(fixture: string | undefined, gpuError?: string): HostFacts {
  const gpus =
    fixture === undefined ? [] : parseGpuQuery(readFileSync(join(FIXTURES, fixture), "utf8"));
  const facts: HostFacts = {
    os: "Linux",
    kernel: "6.1",
    arch: "x86_64",
    hostname: "box",
    tar: true,
    setsid: true,
    gpus,
  };
  if (gpuError !== undefined) facts.gpuError = gpuError;
  return facts;
}

function gpuError(fn: () => unknown): OffloadError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OffloadError);
    expect((error as OffloadError).code).toBe("E_GPU");
    expect((error as OffloadError).hint).toBeTruthy();
    return error as OffloadError;
  }
  throw new Error("expected E_GPU");
}

describe("planGpus", () => {
  it("leaves every GPU visible when the run asks for no count", () => {
    const plan = planGpus(undefined, hostWith("a100-8x-loaded.csv"));
    expect(plan.env).toEqual({});
    expect(plan.gpus).toHaveLength(8);
  });

  it("shows the job only the least busy GPUs, in nvidia-smi's numbering", () => {
    const facts = hostWith("a100-8x-loaded.csv");
    const plan = planGpus(2, facts);
    expect(plan.gpus).toHaveLength(2);
    const indexes = plan.gpus.map((gpu) => gpu.index);
    expect(plan.env).toEqual({
      CUDA_DEVICE_ORDER: "PCI_BUS_ID",
      CUDA_VISIBLE_DEVICES: indexes.join(","),
    });
    const busiest = Math.max(...facts.gpus.map((gpu) => gpu.utilizationPercent ?? 0));
    for (const gpu of plan.gpus) expect(gpu.utilizationPercent).toBeLessThan(busiest);
  });

  it("hides every GPU for --gpus 0, even on a GPU host", () => {
    expect(planGpus(0, hostWith("a10-single.csv")).env.CUDA_VISIBLE_DEVICES).toBe("");
    expect(planGpus(0, hostWith(undefined)).gpus).toEqual([]);
  });

  it("fails before the run when the host has too few GPUs, none, or a broken driver", () => {
    expect(gpuError(() => planGpus(2, hostWith("a10-single.csv"))).message).toMatch(/has 1/);
    expect(gpuError(() => planGpus(1, hostWith(undefined))).message).toMatch(/reports none/);
    const broken = gpuError(() =>
      planGpus(
        1,
        hostWith(undefined, "exit 9: NVIDIA-SMI has failed because it couldn't communicate"),
      ),
    );
    expect(broken.message).toContain("couldn't communicate");
    expect(broken.hint).toMatch(/driver/);
  });
});
