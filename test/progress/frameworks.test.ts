import { describe, expect, it } from "vitest";
import { parseFixture } from "./read-fixture.js";

describe("Keras", () => {
  it("reads TF2 headers, running and finished bars, and verbose=2 lines", () => {
    expect(parseFixture("keras-tf2.txt")).toEqual([
      { type: "progress", epoch: 1, epochs: 3, source: "keras" },
      {
        type: "progress",
        epoch: 1,
        step: 512,
        steps: 3523,
        percent: (512 / 3523) * 100,
        etaSeconds: 25,
        source: "keras",
      },
      { type: "metric", name: "loss", value: 0.0051, epoch: 1, source: "keras" },
      {
        type: "progress",
        epoch: 1,
        step: 3523,
        steps: 3523,
        percent: 100,
        rate: 200,
        source: "keras",
      },
      { type: "metric", name: "loss", value: 0.0024, epoch: 1, source: "keras" },
      { type: "metric", name: "val_loss", value: 9.8068e-4, epoch: 1, source: "keras" },
      { type: "progress", epoch: 2, epochs: 3, source: "keras" },
      {
        type: "progress",
        epoch: 2,
        step: 469,
        steps: 469,
        percent: 100,
        rate: 250,
        source: "keras",
      },
      { type: "metric", name: "loss", value: 0.2961, epoch: 2, source: "keras" },
      { type: "metric", name: "accuracy", value: 0.9151, epoch: 2, source: "keras" },
      { type: "metric", name: "val_loss", value: 0.15, epoch: 2, source: "keras" },
      { type: "metric", name: "val_accuracy", value: 0.955, epoch: 2, source: "keras" },
      { type: "progress", epoch: 3, epochs: 3, source: "keras" },
      {
        type: "progress",
        epoch: 3,
        step: 1079,
        steps: 1079,
        percent: 100,
        rate: 1000 / 19,
        source: "keras",
      },
      { type: "metric", name: "loss", value: 0.2431, epoch: 3, source: "keras" },
    ]);
  });

  it("reads Keras 3 bars through their colour codes and keeps a printed nan", () => {
    const events = parseFixture("keras3.txt");
    expect(events).toEqual([
      { type: "progress", epoch: 1, epochs: 2, source: "keras" },
      {
        type: "progress",
        epoch: 1,
        step: 12,
        steps: 469,
        percent: (12 / 469) * 100,
        rate: 1000 / 12,
        etaSeconds: 5,
        source: "keras",
      },
      { type: "metric", name: "accuracy", value: 0.5103, epoch: 1, source: "keras" },
      { type: "metric", name: "loss", value: 1.6234, epoch: 1, source: "keras" },
      {
        type: "progress",
        epoch: 1,
        step: 469,
        steps: 469,
        percent: 100,
        rate: 1000 / 12,
        source: "keras",
      },
      { type: "metric", name: "accuracy", value: 0.93, epoch: 1, source: "keras" },
      { type: "metric", name: "loss", value: 0.23, epoch: 1, source: "keras" },
      { type: "metric", name: "val_accuracy", value: 0.9612, epoch: 1, source: "keras" },
      { type: "metric", name: "val_loss", value: 0.1311, epoch: 1, source: "keras" },
      { type: "progress", epoch: 2, epochs: 2, source: "keras" },
      {
        type: "progress",
        epoch: 2,
        step: 469,
        steps: 469,
        percent: 100,
        rate: 1000 / 11,
        source: "keras",
      },
      { type: "metric", name: "accuracy", value: 0.97, epoch: 2, source: "keras" },
      { type: "metric", name: "loss", value: Number.NaN, epoch: 2, source: "keras" },
    ]);
  });
});

describe("PyTorch Lightning", () => {
  it("reads the epoch from the bar and skips v_num, sanity checks and validation bars", () => {
    expect(parseFixture("lightning.txt")).toEqual([
      {
        type: "progress",
        epoch: 0,
        step: 4,
        steps: 18,
        percent: 22,
        rate: 1 / 4.47,
        etaSeconds: 62,
        source: "tqdm",
      },
      { type: "metric", name: "loss", value: 10.1, epoch: 0, source: "tqdm" },
      {
        type: "progress",
        epoch: 2,
        step: 450,
        steps: 1000,
        percent: 45,
        rate: 36.5,
        etaSeconds: 15,
        source: "tqdm",
      },
      { type: "metric", name: "train_loss", value: 0.123, epoch: 2, source: "tqdm" },
      {
        type: "progress",
        epoch: 2,
        step: 1000,
        steps: 1000,
        percent: 100,
        rate: 36.61,
        etaSeconds: 0,
        source: "tqdm",
      },
      { type: "metric", name: "train_loss", value: 0.101, epoch: 2, source: "tqdm" },
      { type: "metric", name: "val_acc", value: 0.875, epoch: 2, source: "tqdm" },
    ]);
  });
});

describe("Hugging Face Trainer", () => {
  it("reads the log dicts written between bar updates, including eval and the final summary", () => {
    const metrics = parseFixture("hf-trainer.txt").filter((e) => e.type === "metric");
    expect(metrics).toEqual([
      { type: "metric", name: "loss", value: 0.6927, epoch: 0.5, source: "hf" },
      { type: "metric", name: "grad_norm", value: 1.2345678806304932, epoch: 0.5, source: "hf" },
      { type: "metric", name: "learning_rate", value: 3.75e-5, epoch: 0.5, source: "hf" },
      { type: "metric", name: "loss", value: 0.5412, epoch: 1, source: "hf" },
      { type: "metric", name: "grad_norm", value: 2.0987, epoch: 1, source: "hf" },
      { type: "metric", name: "learning_rate", value: 2.5e-5, epoch: 1, source: "hf" },
      { type: "metric", name: "eval_loss", value: 0.4821, epoch: 1, source: "hf" },
      { type: "metric", name: "eval_accuracy", value: 0.8125, epoch: 1, source: "hf" },
      { type: "metric", name: "eval_runtime", value: 0.52, epoch: 1, source: "hf" },
      { type: "metric", name: "eval_samples_per_second", value: 61.53, epoch: 1, source: "hf" },
      { type: "metric", name: "eval_steps_per_second", value: 7.69, epoch: 1, source: "hf" },
      { type: "metric", name: "train_runtime", value: 12.345, epoch: 1, source: "hf" },
      { type: "metric", name: "train_samples_per_second", value: 20.73, epoch: 1, source: "hf" },
      { type: "metric", name: "train_steps_per_second", value: 0.324, epoch: 1, source: "hf" },
      { type: "metric", name: "train_loss", value: 0.61715, epoch: 1, source: "hf" },
    ]);
  });

  it("shows the trainer's step bar as progress", () => {
    const steps = parseFixture("hf-trainer.txt").flatMap((e) =>
      e.type === "progress" && e.source === "tqdm" ? [`${e.step}/${e.steps}`] : [],
    );
    expect(steps).toEqual(["0/4", "1/4", "2/4", "2/4", "3/4", "4/4", "4/4", "4/4", "4/4", "4/4"]);
  });
});

describe("Ultralytics YOLO", () => {
  const row = (epoch: number, losses: number[]) =>
    ["box_loss", "cls_loss", "dfl_loss"].map((n, i) => ({
      type: "metric",
      name: `train/${n}`,
      value: losses[i],
      epoch,
      source: "yolo",
    }));
  const val = (epoch: number, values: number[]) =>
    ["precision", "recall", "mAP50", "mAP50-95"].map((n, i) => ({
      type: "metric",
      name: `metrics/${n}(B)`,
      value: values[i],
      epoch,
      source: "yolo",
    }));

  it("names row columns from the header and reads the validation summary, old and new bars", () => {
    expect(parseFixture("yolo.txt")).toEqual([
      {
        type: "progress",
        epoch: 1,
        epochs: 100,
        step: 4,
        steps: 8,
        percent: 50,
        rate: 3.02,
        etaSeconds: 1,
        source: "yolo",
      },
      ...row(1, [1.234, 2.345, 1.456]),
      {
        type: "progress",
        epoch: 1,
        epochs: 100,
        step: 8,
        steps: 8,
        percent: 100,
        rate: 3.21,
        etaSeconds: 0,
        source: "yolo",
      },
      ...row(1, [1.201, 2.301, 1.432]),
      ...val(1, [0.612, 0.544, 0.581, 0.402]),
      {
        type: "progress",
        epoch: 12,
        epochs: 300,
        step: 8,
        steps: 8,
        percent: 100,
        rate: 3.1,
        source: "yolo",
      },
      ...row(12, [3.63, 5.712, 4.189]),
      ...val(12, [0, 0, 0, 0]),
    ]);
  });
});
