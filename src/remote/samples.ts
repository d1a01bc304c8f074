// Reads the sampler's lines (sampler.ts) back into machine samples: CPU % from the difference of two
// lines' /proc/stat counters, memory and disk in bytes, and each GPU's utilisation and memory as
// nvidia-smi gave them, a value it could not give (`[N/A]`, `[Not Supported]`) left out (pure).
import { MARK } from "./layout.js";

export interface GpuSample {
  index: number;
  utilizationPercent?: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
}

export interface MachineSample {
  /** When it was taken, by the host's clock (epoch ms). */
  time: number;
  /** Busy share of all CPUs since the sample before (absent for the first). */
  cpuPercent?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  gpus: GpuSample[];
}

/** The /proc/stat counters of one line: what CPU % is computed from. */
export interface CpuCounters {
  busy: number;
  total: number;
}

export interface ParsedLine {
  sample: MachineSample;
  cpu?: CpuCounters;
}

const KIB = 1024;

function readCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]+$/.test(text)) return undefined;
  return Number(text);
}

/** A number nvidia-smi printed, or undefined for `[N/A]`, `[Not Supported]`, `[Unknown Error]`. */
function readGpuNumber(text: string | undefined): number | undefined {
  const value = text?.trim() ?? "";
  return /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : undefined;
}

/** One row of `index, utilization.gpu, memory.used, memory.total` (csv, noheader, nounits). */
export function parseGpuRow(row: string): GpuSample | undefined {
  const [index, utilization, used, total] = row.split(",");
  const at = readCount(index?.trim());
  if (at === undefined) return undefined;
  const gpu: GpuSample = { index: at };
  const util = readGpuNumber(utilization);
  const memoryUsed = readGpuNumber(used);
  const memoryTotal = readGpuNumber(total);
  // A utilisation past 100 % is no reading (a broken or fake nvidia-smi): drawn, it flattens the chart.
  if (util !== undefined && util <= 100) gpu.utilizationPercent = util;
  if (memoryUsed !== undefined) gpu.memoryUsedMiB = memoryUsed;
  if (memoryTotal !== undefined) gpu.memoryTotalMiB = memoryTotal;
  return gpu;
}

/** nvidia-smi's whole reply (one row a GPU; error text and empty lines are no GPU). */
export function parseGpuRows(text: string): GpuSample[] {
  return text
    .split(/[;\r\n]/)
    .map(parseGpuRow)
    .filter((gpu): gpu is GpuSample => gpu !== undefined);
}

/** The words of each section of a line's head (`cpu …`, `mem …`, `disk …`), by section name. */
function readSections(head: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const word of head.split(/\s+/).slice(1)) {
    if (word === "cpu" || word === "mem" || word === "disk") {
      current = [];
      sections.set(word, current);
    } else current?.push(word);
  }
  return sections;
}

/** One sampler line; undefined for anything else (a line cut short by a full disk, a blank one). */
export function parseSampleLine(line: string): ParsedLine | undefined {
  const time = readCount(line.slice(0, line.indexOf(" ")));
  // The GPU rows come last and hold spaces of their own: everything after ` gpu` is theirs.
  const gpuAt = line.indexOf(" gpu");
  if (time === undefined || gpuAt < 0) return undefined;
  const sections = readSections(line.slice(0, gpuAt));
  const cpuWords = sections.get("cpu");
  const memWords = sections.get("mem");
  const diskWords = sections.get("disk");
  if (cpuWords === undefined || memWords === undefined || diskWords === undefined) return undefined;
  const sample: MachineSample = { time, gpus: parseGpuRows(line.slice(gpuAt + 4)) };
  const parsed: ParsedLine = { sample };
  const counters = cpuWords.map(readCount);
  if (counters.length >= 4 && counters.every((n) => n !== undefined)) {
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      counters as number[];
    const busy = user + nice + system + irq + softirq + steal;
    parsed.cpu = { busy, total: busy + idle + iowait };
  }
  const [memTotal, memAvailable] = memWords.map(readCount);
  if (memTotal !== undefined && memTotal > 0) {
    sample.memoryTotalBytes = memTotal * KIB;
    if (memAvailable !== undefined)
      sample.memoryUsedBytes = Math.max(0, memTotal - memAvailable) * KIB;
  }
  const [diskTotal, diskUsed] = diskWords.map(readCount);
  if (diskTotal !== undefined) sample.diskTotalBytes = diskTotal * KIB;
  if (diskUsed !== undefined) sample.diskUsedBytes = diskUsed * KIB;
  return parsed;
}

/** CPU % between two lines' counters (undefined when the counters did not move, or went back). */
export function cpuPercentBetween(before: CpuCounters, after: CpuCounters): number | undefined {
  const total = after.total - before.total;
  const busy = after.busy - before.busy;
  if (total <= 0 || busy < 0) return undefined;
  return Math.round((1000 * busy) / total) / 10;
}

/** Reads samples line by line, keeping the last counters so each line's CPU % follows from the one before. */
export function createSampleReader(): { push(line: string): MachineSample | undefined } {
  let last: CpuCounters | undefined;
  return {
    push(line) {
      const parsed = parseSampleLine(line.replace(/\r?\n$/, ""));
      if (parsed === undefined) return undefined;
      const { sample, cpu } = parsed;
      if (cpu !== undefined) {
        const percent = last === undefined ? undefined : cpuPercentBetween(last, cpu);
        if (percent !== undefined) sample.cpuPercent = percent;
        last = cpu;
      }
      return sample;
    },
  };
}

/** A whole samples file: every sample in order (a half-written last line is left for the next read). */
export function parseSamples(text: string): MachineSample[] {
  const reader = createSampleReader();
  const lines = text.split("\n");
  if (!text.endsWith("\n")) lines.pop();
  return lines.map((line) => reader.push(line)).filter((s): s is MachineSample => s !== undefined);
}

/**
 * Splits a follow script's stderr as it comes: each `offload-sample <line>` goes to `onSample` (the
 * line with its line break, the bytes of machine.txt), everything else is kept as the stderr that
 * markers and error messages are read from. A line cut between chunks waits for its end.
 */
export function createSampleSplitter(onSample: (line: string) => void): {
  push(chunk: string): void;
  /** The stderr without sample lines (a last line with no break included). */
  readonly rest: string;
} {
  const prefix = `${MARK.sample} `;
  let pending = "";
  let rest = "";
  return {
    push(chunk) {
      const text = pending + chunk;
      const last = text.lastIndexOf("\n");
      pending = text.slice(last + 1);
      if (last < 0) return;
      for (const line of text.slice(0, last).split("\n")) {
        if (line.startsWith(prefix)) onSample(`${line.slice(prefix.length)}\n`);
        else rest += `${line}\n`;
      }
    },
    get rest() {
      return rest + pending;
    },
  };
}

/** Stderr without its sample lines: what markers and messages are read from. */
export function dropSampleLines(stderr: string): string {
  if (!stderr.includes(MARK.sample)) return stderr;
  const prefix = `${MARK.sample} `;
  return stderr
    .split("\n")
    .filter((line) => !line.startsWith(prefix))
    .join("\n");
}
