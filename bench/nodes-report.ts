// The table bench/measure-nodes.ts prints: for offload and for the bare tools, the 1-host and N-host
// medians of wall time and CPU, their ratio, and what a node added costs in CPU.
import { cpus } from "node:os";
import { median } from "./tools.js";

/** What one side measured in one round: wall ms, CPU seconds (the bench's cgroup), busy share. */
export interface Sample {
  ms: number;
  cpu: number;
  busy: number;
}

interface Line {
  ratio: number;
  /** CPU seconds a node added costs: (N hosts − 1 host) ÷ (N − 1). */
  perNode: number;
  text: string;
}

function describe(label: string, one: Sample[], many: Sample[], nodes: number): Line {
  const of = (list: Sample[], key: keyof Sample) => list.map((s) => s[key]);
  const list = (values: number[], scale = 1) =>
    values.map((v) => (v * scale).toFixed(0)).join(", ");
  const pct = (values: number[]) => `${(median(values) * 100).toFixed(0)}%`;
  const wall = { one: median(of(one, "ms")), many: median(of(many, "ms")) };
  const cpu = { one: median(of(one, "cpu")), many: median(of(many, "cpu")) };
  const ratio = wall.many / wall.one;
  const perNode = (cpu.many - cpu.one) / (nodes - 1);
  return {
    ratio,
    perNode,
    text: [
      `${label}:`,
      `  wall  1 host ${wall.one.toFixed(0)} ms (${list(of(one, "ms"))}), ${nodes} hosts ${wall.many.toFixed(0)} ms (${list(of(many, "ms"))}): ${ratio.toFixed(2)}×`,
      `  CPU   1 host ${(cpu.one * 1000).toFixed(0)} ms (${list(of(one, "cpu"), 1000)}), ${nodes} hosts ${(cpu.many * 1000).toFixed(0)} ms (${list(of(many, "cpu"), 1000)}): ${(perNode * 1000).toFixed(1)} ms a node added`,
      `  machine busy (all ${cpus().length} cores): 1 host ${pct(of(one, "busy"))}, ${nodes} hosts ${pct(of(many, "busy"))}`,
    ].join("\n"),
  };
}

/** The report of every side measured (`one`/`many`, `bareOne`/`bareMany`, maybe `compareOne`/`compareMany`). */
export function reportNodes(
  samples: Record<string, Sample[]>,
  nodes: number,
  dirs: "warm" | "fresh",
): string {
  const get = (side: string) => samples[side] ?? [];
  const tool = describe("offload run -- true", get("one"), get("many"), nodes);
  const floor = describe(
    "bare tools: rsync -a of the project + ssh host true, every host at once, warm masters",
    get("bareOne"),
    get("bareMany"),
    nodes,
  );
  const lines = [
    `remote dirs: ${dirs === "warm" ? "the same each round, unchanged (no sync)" : "new each run (a first sync)"}`,
    "CPU: the bench's cgroup (the bed's sshds, the masters, offload or the bare tools, every host process)",
    tool.text,
    floor.text,
  ];
  if (samples.compareOne !== undefined) {
    const before = describe("NODES_COMPARE's build", get("compareOne"), get("compareMany"), nodes);
    lines.push(before.text);
  }
  lines.push(
    `offload ÷ bare tools: ratio ${(tool.ratio / floor.ratio).toFixed(2)}, CPU a node added ${(tool.perNode / floor.perNode).toFixed(2)}`,
    `offload's ratio ${tool.ratio.toFixed(2)}× (target ≤ 2×): ${tool.ratio <= 2 ? "pass" : "MISSED"}`,
  );
  return lines.join("\n");
}
