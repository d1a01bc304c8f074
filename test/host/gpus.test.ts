import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OffloadError } from "../../src/errors.js";
import {
  buildGpuEnv,
  cudaVisibleDevices,
  type GpuInfo,
  parseGpuQuery,
  pickGpus,
} from "../../src/host/index.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "nvidia-smi");
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");

function expectGpuError(fn: () => unknown): OffloadError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OffloadError);
    const offloadError = error as OffloadError;
    expect(offloadError.code).toBe("E_GPU");
    expect(offloadError.hint).toBeTruthy();
    return offloadError;
  }
  throw new Error("expected an E_GPU error");
}

describe("parseGpuQuery", () => {
  it("reads a single A10", () => {
    expect(parseGpuQuery(fixture("a10-single.csv"))).toEqual([
      {
        index: 0,
        uuid: "GPU-9d3f1c2a-5b7e-4e0f-8a61-2c4d7e9b0f13",
        name: "NVIDIA A10",
        memoryTotalMiB: 23028,
        memoryUsedMiB: 0,
        utilizationPercent: 0,
        driverVersion: "535.104.05",
      },
    ]);
  });

  it("reads every GPU of an 8-GPU node in order", () => {
    const gpus = parseGpuQuery(fixture("a100-8x-loaded.csv"));
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[5]).toMatchObject({ memoryUsedMiB: 40961, utilizationPercent: 35 });
    expect(new Set(gpus.map((gpu) => gpu.name))).toEqual(new Set(["NVIDIA A100-SXM4-80GB"]));
  });

  it("leaves [N/A] and [Not Supported] values out instead of reading them as 0", () => {
    const [first, second] = parseGpuQuery(fixture("h100-na-fields.csv"));
    expect(first).toEqual({
      index: 0,
      uuid: "GPU-a41f0c6e-2d3b-8e57-91c4-6b0d2f7a3e19",
      name: "NVIDIA H100 80GB HBM3",
      memoryTotalMiB: 81559,
      memoryUsedMiB: 1,
      driverVersion: "550.54.15",
    });
    expect(second).not.toHaveProperty("memoryTotalMiB");
    expect(second).not.toHaveProperty("memoryUsedMiB");
    expect(second).not.toHaveProperty("utilizationPercent");
  });

  it("reads a MIG-enabled GPU, which reports memory but no utilization", () => {
    const [mig, plain] = parseGpuQuery(fixture("a100-mig.csv"));
    expect(mig).toMatchObject({ index: 0, memoryUsedMiB: 36537 });
    expect(mig).not.toHaveProperty("utilizationPercent");
    expect(plain).toMatchObject({ index: 1, utilizationPercent: 0 });
  });

  it("finds no GPU in nvidia-smi's messages for no device or no driver", () => {
    expect(parseGpuQuery(fixture("no-devices.txt"))).toEqual([]);
    expect(parseGpuQuery(fixture("driver-failure.txt"))).toEqual([]);
    expect(parseGpuQuery("")).toEqual([]);
  });

  it("tolerates CRLF, extra spaces, units and blank lines", () => {
    const csv = "\r\n  1 ,GPU-a,  Tesla T4 ,  15360 MiB, 120 MiB ,  7 %, 470.82.01  \r\n\r\n";
    expect(parseGpuQuery(csv)).toEqual([
      {
        index: 1,
        uuid: "GPU-a",
        name: "Tesla T4",
        memoryTotalMiB: 15360,
        memoryUsedMiB: 120,
        utilizationPercent: 7,
        driverVersion: "470.82.01",
      },
    ]);
  });

  it("keeps the numbers in place if a name ever contains a comma", () => {
    const [gpu] = parseGpuQuery("0, GPU-x, Future GPU, Rev B, 1000, 10, 5, 600.1\n");
    expect(gpu).toMatchObject({
      name: "Future GPU, Rev B",
      memoryTotalMiB: 1000,
      driverVersion: "600.1",
    });
  });
});

describe("pickGpus", () => {
  const node = parseGpuQuery(fixture("a100-8x-loaded.csv"));

  it("picks the idle GPUs with the least memory in use, lowest index first on ties", () => {
    expect(pickGpus(node, 3).map((gpu) => gpu.index)).toEqual([2, 4, 7]);
    expect(pickGpus(node, 4).map((gpu) => gpu.index)).toEqual([2, 4, 7, 3]);
    expect(pickGpus(node, 6).map((gpu) => gpu.index)).toEqual([2, 4, 7, 3, 6, 5]);
  });

  it("does not reorder or change the list it was given", () => {
    const before = structuredClone(node);
    pickGpus(node, 8);
    expect(node).toEqual(before);
  });

  it("ranks a GPU of unknown load after every GPU whose load is known", () => {
    const gpus = parseGpuQuery(fixture("h100-na-fields.csv"));
    // GPU 0 reports memory but no utilization; GPU 2 is 71% busy yet known; GPU 1 reports nothing.
    expect(pickGpus(gpus, 3).map((gpu) => gpu.index)).toEqual([2, 0, 1]);
    const mig = parseGpuQuery(fixture("a100-mig.csv"));
    expect(pickGpus(mig, 1).map((gpu) => gpu.index)).toEqual([1]);
  });

  it("returns nothing for a count of 0, which hides every GPU", () => {
    expect(pickGpus(node, 0)).toEqual([]);
    expect(pickGpus([], 0)).toEqual([]);
  });

  it("fails with E_GPU naming the GPUs when the host has too few", () => {
    const error = expectGpuError(() => pickGpus(parseGpuQuery(fixture("a10-single.csv")), 2));
    expect(error.message).toContain("has 1");
    expect(error.message).toContain("0 NVIDIA A10");
  });

  it("fails with E_GPU when the host has no GPU at all", () => {
    const error = expectGpuError(() => pickGpus([], 1));
    expect(error.hint).toContain("nvidia-smi");
  });

  it("fails with E_GPU for a count that is not a whole number", () => {
    expectGpuError(() => pickGpus(node, -1));
    expectGpuError(() => pickGpus(node, 1.5));
  });
});

describe("cudaVisibleDevices", () => {
  it("lists the picked indexes in the order they were picked", () => {
    const node = parseGpuQuery(fixture("a100-8x-loaded.csv"));
    expect(cudaVisibleDevices(pickGpus(node, 3))).toBe("2,4,7");
    expect(cudaVisibleDevices([])).toBe("");
  });

  it("comes with the device order that makes those indexes mean the same GPUs to CUDA", () => {
    const picked: GpuInfo[] = [{ index: 3, uuid: "GPU-x", name: "X", driverVersion: "1" }];
    expect(buildGpuEnv(picked)).toEqual({
      CUDA_DEVICE_ORDER: "PCI_BUS_ID",
      CUDA_VISIBLE_DEVICES: "3",
    });
  });
});
