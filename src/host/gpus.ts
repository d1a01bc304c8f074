// Reads the GPUs a host reports through nvidia-smi and picks the ones a run should see.
import { OffloadError } from "../errors.js";

/** The nvidia-smi query whose CSV `parseGpuQuery` reads; the field order is part of the contract. */
export const GPU_QUERY_ARGS = [
  "--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu,driver_version",
  "--format=csv,noheader,nounits",
] as const;

export interface GpuInfo {
  /** nvidia-smi's index: PCI bus order, which CUDA follows only with CUDA_DEVICE_ORDER=PCI_BUS_ID. */
  index: number;
  uuid: string;
  name: string;
  /** Absent where nvidia-smi says `[N/A]` or `[Not Supported]`. */
  memoryTotalMiB?: number;
  memoryUsedMiB?: number;
  /** Percent; absent on MIG-enabled GPUs, which report no whole-GPU utilization. */
  utilizationPercent?: number;
  driverVersion: string;
}

const FIELD_COUNT = 7;

/**
 * Parses `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`. Lines that are not GPU rows
 * ("No devices were found", driver errors) are skipped rather than failing the whole probe.
 */
export function parseGpuQuery(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of csv.split(/\r?\n/)) {
    const gpu = parseGpuLine(line);
    if (gpu !== undefined) gpus.push(gpu);
  }
  return gpus;
}

function parseGpuLine(line: string): GpuInfo | undefined {
  const raw = line.split(",");
  const parts = raw.map((part) => part.trim());
  if (parts.length < FIELD_COUNT) return undefined;
  const [indexText, uuid] = parts;
  if (indexText === undefined || uuid === undefined || !/^\d+$/.test(indexText)) return undefined;
  // nvidia-smi does not quote CSV fields; product names carry no commas today, but reading the
  // fixed fields from both ends keeps a future "Name, Rev B" from shifting every number.
  const tail = parts.slice(-4);
  const gpu: GpuInfo = {
    index: Number(indexText),
    uuid,
    name: raw.slice(2, -4).join(",").trim(),
    driverVersion: readText(tail[3]),
  };
  const memoryTotal = readNumber(tail[0]);
  const memoryUsed = readNumber(tail[1]);
  const utilization = readNumber(tail[2]);
  if (memoryTotal !== undefined) gpu.memoryTotalMiB = memoryTotal;
  if (memoryUsed !== undefined) gpu.memoryUsedMiB = memoryUsed;
  if (utilization !== undefined) gpu.utilizationPercent = utilization;
  return gpu;
}

function readNumber(field: string | undefined): number | undefined {
  // `nounits` drops " MiB" and " %", but older drivers ignore it for some fields: strip them here too.
  const text = readText(field).replace(/\s*(MiB|%)$/, "");
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function readText(field: string | undefined): string {
  const text = field ?? "";
  return /^\[.*\]$/.test(text) || text === "N/A" ? "" : text;
}

/**
 * Chooses the `count` least busy GPUs: lowest utilization, then least memory used, then lowest index.
 * A GPU that reports neither ranks after every GPU that does, since it may well be busy.
 */
export function pickGpus(gpus: readonly GpuInfo[], count: number): GpuInfo[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new OffloadError(
      "E_GPU",
      `Cannot pick ${count} GPUs: the count must be a whole number.`,
      {
        hint: "Pass a GPU count such as --gpus 1, or leave it out to use every GPU.",
      },
    );
  }
  if (count === 0) return [];
  if (gpus.length === 0) {
    throw new OffloadError("E_GPU", `The run asks for ${count} GPU(s) but the host reports none.`, {
      hint: "Check that `nvidia-smi` works on the host (driver loaded), or run without --gpus to use the CPU.",
    });
  }
  if (count > gpus.length) {
    throw new OffloadError(
      "E_GPU",
      `The run asks for ${count} GPUs but the host has ${gpus.length}: ${describeGpus(gpus)}.`,
      { hint: `Ask for at most ${gpus.length}, or pick a host with more GPUs.` },
    );
  }
  return [...gpus].sort(compareLoad).slice(0, count);
}

function compareLoad(a: GpuInfo, b: GpuInfo): number {
  return (
    compareKnown(a.utilizationPercent, b.utilizationPercent) ||
    compareKnown(a.memoryUsedMiB, b.memoryUsedMiB) ||
    a.index - b.index
  );
}

function compareKnown(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined)
    return (a === undefined ? 1 : 0) - (b === undefined ? 1 : 0);
  return a - b;
}

function describeGpus(gpus: readonly GpuInfo[]): string {
  return gpus.map((gpu) => `${gpu.index} ${gpu.name}`).join(", ");
}

/** The CUDA_VISIBLE_DEVICES value for the picked GPUs, in nvidia-smi's (PCI bus) numbering. */
export function cudaVisibleDevices(picked: readonly GpuInfo[]): string {
  return picked.map((gpu) => String(gpu.index)).join(",");
}

/**
 * The environment that makes CUDA see exactly the picked GPUs. CUDA numbers devices fastest first
 * unless told otherwise, so nvidia-smi's indexes only mean the same GPUs with PCI_BUS_ID ordering.
 */
export function buildGpuEnv(picked: readonly GpuInfo[]): Record<string, string> {
  return { CUDA_DEVICE_ORDER: "PCI_BUS_ID", CUDA_VISIBLE_DEVICES: cudaVisibleDevices(picked) };
}
