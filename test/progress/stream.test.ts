import { describe, expect, it } from "vitest";
import { createLogParser, parseLogText } from "../../src/progress/stream.js";
import type { ParsedEvent } from "../../src/progress/types.js";
import { parseFixture, readFixture } from "./read-fixture.js";

const bar = (step: number, loss: number, rate: number, lossPrinted = loss): ParsedEvent[] => [
  { type: "progress", step, steps: 1000, percent: step / 10, rate, etaSeconds: 0, source: "tqdm" },
  { type: "metric", name: "loss", value: lossPrinted, source: "tqdm" },
  { type: "metric", name: "lr", value: 0.001, source: "tqdm" },
];

describe("tqdm", () => {
  it("reads every \\r-separated update of a real tqdm 4.64 bar, it/s and s/it", () => {
    const slow = { steps: 4, source: "tqdm", epoch: 1, epochs: 3 } as const;
    expect(parseFixture("tqdm.txt")).toEqual([
      { type: "progress", step: 0, steps: 1000, percent: 0, source: "tqdm" },
      {
        type: "progress",
        step: 150,
        steps: 1000,
        percent: 15,
        rate: 2989.23,
        etaSeconds: 0,
        source: "tqdm",
      },
      ...bar(150, 0.5, 2989.23),
      ...bar(300, 0.5, 2975.85),
      ...bar(300, 0.25, 2975.85),
      ...bar(450, 0.25, 2971.39),
      ...bar(450, 0.167, 2971.39),
      ...bar(600, 0.167, 2970.9),
      ...bar(600, 0.125, 2970.9),
      ...bar(750, 0.125, 2970.28),
      ...bar(750, 0.1, 2970.28),
      ...bar(750, 0.1, 2967.3),
      { type: "progress", step: 0, percent: 0, ...slow },
      { type: "progress", step: 1, percent: 25, rate: 1 / 1.2, etaSeconds: 3, ...slow },
      { type: "progress", step: 2, percent: 50, rate: 1 / 1.2, etaSeconds: 2, ...slow },
      { type: "progress", step: 2, percent: 50, rate: 1 / 1.2, etaSeconds: 2, ...slow },
    ]);
  });
});

describe("createLogParser", () => {
  it("gives the same events whatever the chunk boundaries, even one character at a time", () => {
    const text = readFixture("tqdm.txt") + readFixture("keras3.txt") + readFixture("yolo.txt");
    const whole = parseLogText(text);
    const parser = createLogParser();
    const pieces: ParsedEvent[] = [];
    for (const char of text) pieces.push(...parser.push(char));
    pieces.push(...parser.end());
    expect(pieces).toEqual(whole);
    expect(whole.length).toBeGreaterThan(50);
  });

  it("holds a bar split across chunks until its line is complete", () => {
    const parser = createLogParser();
    expect(parser.push(" 45%|████▌     | 450/1000 [00:12<00:15, 36.5")).toEqual([]);
    expect(parser.push("0it/s, loss=0.123]\r")).toEqual([
      {
        type: "progress",
        step: 450,
        steps: 1000,
        percent: 45,
        rate: 36.5,
        etaSeconds: 15,
        source: "tqdm",
      },
      { type: "metric", name: "loss", value: 0.123, source: "tqdm" },
    ]);
  });

  it("parses the last line without a break only at end()", () => {
    const parser = createLogParser();
    expect(parser.push("RESULT_ACC=0.5")).toEqual([]);
    expect(parser.end()).toEqual([{ type: "metric", name: "ACC", value: 0.5, source: "result" }]);
    expect(parser.end()).toEqual([]);
  });

  it("treats \\r\\n as one break and strips colour codes", () => {
    expect(parseLogText("\u001b[32mRESULT_A=1\u001b[0m\r\nRESULT_B=2\r\n")).toEqual([
      { type: "metric", name: "A", value: 1, source: "result" },
      { type: "metric", name: "B", value: 2, source: "result" },
    ]);
  });

  it("reads a helper report glued to a tqdm bar that held the line", () => {
    const line =
      ' 45%|████▌     | 450/1000 [00:12<00:15, 36.50it/s]@offload {"offload":1,"type":"report","step":450,"metrics":{"acc":0.9}}\n';
    expect(parseLogText(line)).toEqual([
      {
        type: "progress",
        step: 450,
        steps: 1000,
        percent: 45,
        rate: 36.5,
        etaSeconds: 15,
        source: "tqdm",
      },
      { type: "progress", step: 450, source: "offload" },
      { type: "metric", name: "acc", value: 0.9, step: 450, source: "offload" },
    ]);
  });
});

describe("noise", () => {
  it("yields no event from warnings, tracebacks, downloads, URLs, versions or garbled bars", () => {
    expect(parseFixture("noise.txt")).toEqual([]);
  });
});

describe("lines that cannot hold a number", () => {
  it("are skipped without losing a bar split across chunks, a YOLO header or a user pattern's line", () => {
    const parser = createLogParser({ patterns: [{ pattern: "^(?<n>\\d+)$" }] });
    const noise = "x\n\n--\r".repeat(1000);
    const events = [
      ...parser.push(`${noise}Epoch 3/10\n${noise}1`),
      ...parser.push(`2\n${noise}Epo`),
      ...parser.push("ch 4/10\r"),
      ...parser.end(),
    ];
    expect(events).toEqual([
      { type: "progress", epoch: 3, epochs: 10, source: "keras" },
      { type: "metric", name: "n", value: 12, source: "pattern" },
      { type: "progress", epoch: 4, epochs: 10, source: "keras" },
    ]);
    const builtins = createLogParser();
    expect([...builtins.push(`${noise}12\n7\nEpoch 1/2\n`), ...builtins.end()]).toEqual([
      { type: "progress", epoch: 1, epochs: 2, source: "keras" },
    ]);
  });
});
