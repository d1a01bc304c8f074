// The byte gate may only skip lines that no built-in parser claims: every line of the real logs in
// the corpus and the fixtures, and lines written to sit at the edge of each parser's form.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createLineGate } from "../../src/progress/gate.js";
import { stripAnsi } from "../../src/progress/lines.js";
import { createBuiltins, createLogParser, parseLogText } from "../../src/progress/stream.js";

function readLogs(folder: string, suffix: string): Array<[string, string]> {
  const dir = fileURLToPath(new URL(folder, import.meta.url));
  return readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .map((name) => [name, readFileSync(`${dir}${name}`, "utf8")]);
}

const LOGS = [...readLogs("./corpus/", ".log"), ...readLogs("../fixtures/logs/", ".txt")];

const EDGES = [
  "Epoch 2 of 10 loss=0.1",
  "step 3 OF 8",
  "epoch\u00a03/10 loss: 0.2",
  "Epoch [1/20], Step [100/600], Loss: 0.2345",
  "\u001b[32m5\u001b[0m/10 [00:01<00:02, 2.00it/s]",
  "Test set: Average loss: 0.0537, Accuracy: 9826/10000 (98%)",
  "VALIDATION SET: loss: 0.3",
  "                 Class     Images  Instances      Box(P          R      mAP50  mAP50-95): 100%",
  "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size",
  "                   all        128        929      0.654      0.541      0.619      0.443",
  "  Num Epochs = 3",
  "  Total optimization steps = 1,200",
  "RESULT_ACC=0.93",
  "{'loss': 0.6931, 'epoch': 0.5}",
  '{"epoch": 3, "loss": 0.12}',
  "| epoch 3 | train loss 0.35 | val acc 92.10%",
  "Epoch: [0][   10/40037]\tTime  0.018 ( 0.114)\tLoss 2.9971e+00 (6.2409e+00)",
  "epoch 3\tloss 0.3",
  " 45%|████▌     | 450/1000 [00:12<00:15, 36.50it/s, loss=0.123]",
  "  1/100  2.05G  1.234  2.345  1.456  32  640: 100% ━━━━━━━━━━━━ 8/8 3.1it/s 1.2s<1.3s",
];

/** Each line as the parser sees it, and whether one gate, reading each line's raw bytes in turn, lets it through. */
function gatedLines(text: string): Array<{ raw: string; line: string; kept: boolean }> {
  const gate = createLineGate();
  return text.split(/\r\n|\r|\n/).map((raw) => {
    const bytes = Buffer.from(raw, "utf8");
    return {
      raw,
      line: stripAnsi(raw).trimEnd(),
      kept: gate.find(bytes, 0, bytes.length).length > 0,
    };
  });
}

describe("the gate", () => {
  it.each([...LOGS, ["edges", EDGES.join("\n")]])(
    "skips no line of %s that a built-in parser claims",
    (_name, text) => {
      // Parsers keep state (a YOLO header names the next rows' columns): feed them every line in order.
      const builtins = createBuiltins();
      const claimedButSkipped = gatedLines(text).filter(
        ({ line, kept }) => builtins.map((parse) => parse(line)).some((e) => e !== null) && !kept,
      );
      expect(claimedButSkipped.map(({ raw }) => raw)).toEqual([]);
    },
  );

  it("lets every edge line through, and none of the lines no parser wants", () => {
    expect(gatedLines(EDGES.join("\n")).filter(({ kept }) => !kept)).toEqual([]);
    const noise = [
      "7",
      "epoch 1 step 123 loss=0.123456 lr=0.001 a moderately long training log line",
      "Downloading https://example.com/a/b/model.bin",
      "2026-12-01 12:00:00 INFO starting worker 3",
      "all 3 done, before any YOLO validation header",
      "the value of x",
    ];
    expect(gatedLines(noise.join("\n")).filter(({ kept }) => kept)).toEqual([]);
  });

  it("finds each kept line whole, in order, among lines it skips", () => {
    const text = "x\nEpoch 1/2\r\nnoise\r 5/10 [00:01<00:02, 2.00it/s]\nend";
    const bytes = Buffer.from(text);
    const ranges = createLineGate().find(bytes, 0, bytes.length);
    const lines = [];
    for (let i = 0; i < ranges.length; i += 2)
      lines.push(bytes.toString("utf8", ranges[i], ranges[i + 1]));
    expect(lines).toEqual(["Epoch 1/2", " 5/10 [00:01<00:02, 2.00it/s]"]);
  });
});

describe("a parser fed bytes", () => {
  it("gives the events of the text, whatever the chunks, even a UTF-8 character cut in two", () => {
    const text = LOGS.map(([, log]) => log).join("\n");
    const bytes = Buffer.from(text, "utf8");
    for (const size of [1, 7, 4096]) {
      const parser = createLogParser();
      const events = [];
      for (let at = 0; at < bytes.length; at += size)
        events.push(...parser.push(bytes.subarray(at, at + size)));
      events.push(...parser.end());
      expect(events).toEqual(parseLogText(text));
    }
  });
});
