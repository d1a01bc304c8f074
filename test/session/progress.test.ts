// trackProgress on a real run folder: what it reports, what it appends to metrics.jsonl, and how an
// attach's earlier log sets the parsers' state without being reported again.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events.js";
import { trackProgress } from "../../src/session/progress.js";

let runDir = "";
beforeEach(async () => {
  runDir = await mkdtemp(join(tmpdir(), "offload-track-"));
});
afterEach(async () => {
  await rm(runDir, { recursive: true, force: true });
});

const output = (text: string): RunEvent => ({ type: "output", data: Buffer.from(text) });
const HEADER = "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size\n";
const ROW =
  "      9/55      9.02G     0.1295      7.585      3.256         16        640: 100%|██████████| 954/954 [11:32<00:00,  1.38it/s]\n";

describe("trackProgress", () => {
  it("names a YOLO row's columns from a header only the earlier log had, and reports only the new", async () => {
    const seen: RunEvent[] = [];
    const report = trackProgress((e) => seen.push(e), runDir, { seen: `${HEADER}${ROW}` });
    report(output(ROW));
    const metrics = seen.filter((e) => e.type === "metric");
    expect(metrics.map((e) => (e.type === "metric" ? e.name : ""))).toEqual([
      "train/box_loss",
      "train/cls_loss",
      "train/dfl_loss",
    ]);
    const lines = (await readFile(join(runDir, "metrics.jsonl"), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(3);
  });

  it("gives only the epoch of a row whose header it never saw", () => {
    const seen: RunEvent[] = [];
    trackProgress((e) => seen.push(e), runDir)(output(ROW));
    expect(seen.filter((e) => e.type === "metric")).toEqual([]);
    expect(seen).toContainEqual(
      expect.objectContaining({ type: "progress", epoch: 9, epochs: 55 }),
    );
  });

  it("applies progress.patterns beside the built-in parsers", async () => {
    const seen: RunEvent[] = [];
    const report = trackProgress((e) => seen.push(e), runDir, {
      patterns: ["throughput (?<Throughput>[0-9.]+) img/s"],
    });
    report(output("step 3 throughput 812.5 img/s\n"));
    expect(seen).toContainEqual({
      type: "metric",
      name: "throughput",
      value: 812.5,
      source: "pattern",
    });
    expect(await readFile(join(runDir, "metrics.jsonl"), "utf8")).toContain('"name":"throughput"');
  });
});
