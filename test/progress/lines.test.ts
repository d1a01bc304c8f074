import { describe, expect, it } from "vitest";
import { parseFixture } from "./read-fixture.js";

describe("JSON lines", () => {
  it("reads seed 002's progress shape, plain metric dicts, Python's bare NaN and helper reports", () => {
    expect(parseFixture("json.txt")).toEqual([
      { type: "progress", epoch: 5, epochs: 10, percent: 50, source: "json" },
      { type: "metric", name: "loss", value: 0.234, epoch: 5, source: "json" },
      { type: "metric", name: "mAP", value: 0.85, epoch: 5, source: "json" },
      { type: "progress", epoch: 3, source: "json" },
      { type: "metric", name: "loss", value: 0.12, epoch: 3, source: "json" },
      { type: "metric", name: "val_loss", value: Number.NaN, epoch: 3, source: "json" },
      { type: "progress", step: 200, source: "json" },
      { type: "metric", name: "lr", value: 0.0003, step: 200, source: "json" },
      { type: "progress", step: 10, epoch: 1, epochs: 5, source: "offload" },
      { type: "metric", name: "loss", value: Number.NaN, step: 10, epoch: 1, source: "offload" },
      { type: "metric", name: "acc", value: 0.5, step: 10, epoch: 1, source: "offload" },
    ]);
  });
});

describe("RESULT_ lines", () => {
  it("keeps single names as written and prefixes grouped keys with their group", () => {
    expect(parseFixture("result.txt")).toEqual([
      { type: "metric", name: "DAVID.elapsed_seconds", value: 187.42, source: "result" },
      { type: "metric", name: "DAVID.epochs", value: 12, source: "result" },
      { type: "metric", name: "DAVID.batch_size", value: 512, source: "result" },
      { type: "metric", name: "HLB.elapsed_seconds", value: 9.87, source: "result" },
      { type: "metric", name: "HLB.train_epochs", value: 11.5, source: "result" },
      { type: "metric", name: "HLB.ema_val_acc", value: 0.9403, source: "result" },
      { type: "metric", name: "ACCURACY", value: 0.9403, source: "result" },
    ]);
  });
});

describe("Epoch a/b lines", () => {
  it("reads `Epoch [a/b], Step [c/d]`, `Epoch a/b - loss:` and `epoch a of b, name=value`", () => {
    const at = (epoch: number, step?: number) => ({
      epoch,
      ...(step === undefined ? {} : { step }),
      source: "epoch" as const,
    });
    const perEpoch = (epoch: number, loss: number) => [
      { type: "metric", name: "loss", value: loss, ...at(epoch) },
      { type: "metric", name: "lr", value: 0.1, ...at(epoch) },
      { type: "progress", epochs: 2, ...at(epoch) },
      { type: "metric", name: "train_loss", value: loss, ...at(epoch) },
    ];
    expect(parseFixture("epoch.txt")).toEqual([
      { type: "progress", epochs: 2, steps: 2, ...at(1, 1) },
      { type: "metric", name: "loss", value: 5.2281, ...at(1, 1) },
      { type: "progress", epochs: 2, steps: 2, ...at(1, 2) },
      { type: "metric", name: "loss", value: 3.3701, ...at(1, 2) },
      { type: "progress", epochs: 2, ...at(1) },
      ...perEpoch(1, 3.3701),
      { type: "progress", epochs: 2, steps: 2, ...at(2, 1) },
      { type: "metric", name: "loss", value: 2.1882, ...at(2, 1) },
      { type: "progress", epochs: 2, steps: 2, ...at(2, 2) },
      { type: "metric", name: "loss", value: 1.4307, ...at(2, 2) },
      { type: "progress", epochs: 2, ...at(2) },
      ...perEpoch(2, 1.4307),
    ]);
  });
});
