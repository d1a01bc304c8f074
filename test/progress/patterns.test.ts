import { describe, expect, it } from "vitest";
import { isOffloadError } from "../../src/errors.js";
import { createLogParser, parseLogText } from "../../src/progress/stream.js";

describe("user patterns", () => {
  it("turns numeric named groups into metrics and epoch/step groups into progress", () => {
    const patterns = [
      { pattern: String.raw`it (?<step>\d+)/(?<steps>\d+) acc=(?<accuracy>[0-9.]+)` },
    ];
    expect(parseLogText("it 30/100 acc=0.75\n", { patterns })).toEqual([
      { type: "progress", step: 30, steps: 100, source: "pattern" },
      { type: "metric", name: "accuracy", value: 0.75, step: 30, source: "pattern" },
    ]);
  });

  it("adds to a built-in parse of the same line, replacing same-named metrics", () => {
    const patterns = [{ pattern: "loss=(?<loss>[0-9.]+)", flags: "g" }];
    const line = " 45%|████▌     | 450/1000 [00:12<00:15, 36.50it/s, loss=0.123, lr=1e-3]\n";
    expect(parseLogText(line, { patterns })).toEqual([
      {
        type: "progress",
        step: 450,
        steps: 1000,
        percent: 45,
        rate: 36.5,
        etaSeconds: 15,
        source: "tqdm",
      },
      { type: "metric", name: "lr", value: 0.001, source: "tqdm" },
      { type: "metric", name: "loss", value: 0.123, source: "pattern" },
    ]);
  });

  it("skips groups that did not capture a number", () => {
    const patterns = [{ pattern: String.raw`mode=(?<mode>\w+) acc=(?<acc>\S+)` }];
    expect(parseLogText("mode=train acc=n/a\n", { patterns })).toEqual([]);
  });

  it("rejects an invalid regex and one without named groups as E_CONFIG_VALUE", () => {
    for (const pattern of ["acc=(?<accuracy>[0-9.]+", "acc=([0-9.]+)"]) {
      let caught: unknown;
      try {
        createLogParser({ patterns: [{ pattern }] });
      } catch (error) {
        caught = error;
      }
      expect(isOffloadError(caught) && caught.code).toBe("E_CONFIG_VALUE");
    }
  });
});
