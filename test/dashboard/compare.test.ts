// What compare shows as differing: only what is not the same in every run, options lined up by name.
import { expect, it } from "vitest";
import { findDifferences } from "../../src/dashboard/compare.js";
import type { RunRecord } from "../../src/runs/record.js";
import { makeRecord } from "../support/record.js";

function record(id: string, command: string[], extra: Partial<RunRecord> = {}): RunRecord {
  return makeRecord({
    id,
    command,
    target: { label: "gpu-box", kind: "ssh", remoteDir: "/w" },
    startedAt: "2026-12-01T00:00:00Z",
    envNames: ["PYTHONUNBUFFERED"],
    ...extra,
  });
}

it("lines options up by name, whatever their order, and leaves out what is the same", () => {
  const a = record("a", ["python", "train.py", "--lr", "0.1", "--epochs", "3"]);
  const b = record("b", ["python", "train.py", "--epochs", "3", "--lr=0.01", "--fast"]);
  expect(findDifferences([a, b])).toEqual([
    { what: "argument --lr", values: ["0.1", "0.01"] },
    { what: "argument --fast", values: [null, "true"] },
    {
      what: "command",
      values: [
        "python train.py --lr 0.1 --epochs 3",
        "python train.py --epochs 3 --lr=0.01 --fast",
      ],
    },
  ]);
});

it("compares by position when the programs differ, and names env, target and git changes", () => {
  const a = record("a", ["python", "a.py"], {
    git: { commit: "abc", branch: "main", dirty: false },
  });
  const b = record("b", ["python", "b.py"], {
    envNames: ["PYTHONUNBUFFERED", "WANDB_MODE"],
    target: { label: "other", kind: "ssh", remoteDir: "/w" },
    git: { commit: "def", branch: "main", dirty: true },
  });
  expect(findDifferences([a, b]).map((d) => [d.what, d.values])).toEqual([
    ["argument 2", ["a.py", "b.py"]],
    ["command", ["python a.py", "python b.py"]],
    ["target", ["gpu-box", "other"]],
    ["env WANDB_MODE", [null, "set"]],
    ["git commit", ["abc", "def"]],
    ["git dirty", ["false", "true"]],
  ]);
});

it("finds nothing between runs of the same command", () => {
  const command = ["python", "train.py", "--epochs", "3"];
  expect(findDifferences([record("a", command), record("b", command)])).toEqual([]);
});
