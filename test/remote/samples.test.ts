// The sampler's lines read back on recorded nvidia-smi replies (one A10, eight H100 with `[N/A]` and
// `[Not Supported]`, a driver failure) and on lines as the sampler wrote them on this machine.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MARK } from "../../src/remote/layout.js";
import {
  createSampleSplitter,
  dropSampleLines,
  parseGpuRows,
  parseSampleLine,
  parseSamples,
} from "../../src/remote/samples.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/machine");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

/** Two lines the sampler wrote on a 2-core Debian machine, five seconds apart. */
const RECORDED = [
  "1796166635384 cpu 2888647 2470 707268 1089966 53459 0 11176 11738 mem 24684084 22271660 disk 264212084 30572920 75817992 gpu ",
  "1796166640420 cpu 2889495 2470 707424 1089967 53459 0 11178 11739 mem 24684084 22225476 disk 264212084 30573244 75817668 gpu ",
];

describe("nvidia-smi rows", () => {
  it("reads one GPU", () => {
    expect(parseGpuRows(fixture("nvidia-smi-a10-single.csv"))).toEqual([
      { index: 0, utilizationPercent: 87, memoryUsedMiB: 17345, memoryTotalMiB: 23028 },
    ]);
  });

  it("reads eight GPUs, leaving out what nvidia-smi could not say", () => {
    const gpus = parseGpuRows(fixture("nvidia-smi-h100-8x.csv"));
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[0]).toEqual({
      index: 0,
      utilizationPercent: 100,
      memoryUsedMiB: 75309,
      memoryTotalMiB: 81559,
    });
    // MIG: no whole-GPU utilisation, memory still there.
    expect(gpus[3]).toEqual({ index: 3, memoryUsedMiB: 13, memoryTotalMiB: 81559 });
    expect(gpus[7]).toEqual({ index: 7 });
  });

  it("leaves out a utilisation no GPU can have (a lying nvidia-smi on the job's PATH)", () => {
    expect(parseGpuRows("0, 99999999999, 100, 200\n1, 100.5, 1, 2\n")).toEqual([
      { index: 0, memoryUsedMiB: 100, memoryTotalMiB: 200 },
      { index: 1, memoryUsedMiB: 1, memoryTotalMiB: 2 },
    ]);
  });

  it("reads no GPU out of a driver failure", () => {
    expect(parseGpuRows(fixture("nvidia-smi-driver-failure.txt"))).toEqual([]);
  });

  it("reads the rows as the sampler joins them (`;` after each)", () => {
    const joined = `${fixture("nvidia-smi-h100-8x.csv").trim().split("\n").join(";")};`;
    expect(parseGpuRows(joined)).toEqual(parseGpuRows(fixture("nvidia-smi-h100-8x.csv")));
  });
});

describe("sample lines", () => {
  it("reads memory and disk in bytes, and no CPU % for a first line", () => {
    const first = parseSampleLine(RECORDED[0] ?? "");
    expect(first?.sample).toEqual({
      time: 1796166635384,
      memoryTotalBytes: 24684084 * 1024,
      memoryUsedBytes: (24684084 - 22271660) * 1024,
      diskTotalBytes: 264212084 * 1024,
      diskUsedBytes: 30572920 * 1024,
      gpus: [],
    });
  });

  it("takes CPU % from two lines' counters", () => {
    const [, second] = parseSamples(`${RECORDED.join("\n")}\n`);
    // busy: user 848 + system 156 + softirq 2 + steal 1; idle 1: 1007 of 1008.
    expect(second?.cpuPercent).toBe(99.9);
  });

  it("reads the GPUs of a line", () => {
    const rows = fixture("nvidia-smi-h100-8x.csv").trim().split("\n").join(";");
    const line = `${RECORDED[1]?.replace(/ gpu $/, "")} gpu ${rows};`;
    const sample = parseSampleLine(line)?.sample;
    expect(sample?.gpus).toHaveLength(8);
    expect(sample?.memoryTotalBytes).toBe(24684084 * 1024);
  });

  it("leaves a half-written last line and anything that is not a sample", () => {
    const text = `${RECORDED[0]}\nnot a sample\n${RECORDED[1]?.slice(0, 40)}`;
    expect(parseSamples(text).map((s) => s.time)).toEqual([1796166635384]);
  });
});

describe("samples on the follow's stderr", () => {
  it("splits sample lines, cut anywhere between chunks, from the markers", () => {
    const stderr = `${MARK.following}\n${MARK.sample} ${RECORDED[0]}\nssh: warning\n${MARK.sample} ${RECORDED[1]}\n${MARK.exit} 0\n`;
    const lines: string[] = [];
    const splitter = createSampleSplitter((line) => lines.push(line));
    for (let at = 0; at < stderr.length; at += 7) splitter.push(stderr.slice(at, at + 7));
    expect(lines).toEqual([`${RECORDED[0]}\n`, `${RECORDED[1]}\n`]);
    expect(splitter.rest).toBe(`${MARK.following}\nssh: warning\n${MARK.exit} 0\n`);
    expect(dropSampleLines(stderr)).toBe(splitter.rest);
  });
});
