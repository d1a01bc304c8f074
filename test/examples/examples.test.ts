import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples");
// Debian's interpreter carries python3-torch; the python3 first on PATH may not.
const SYSTEM_PYTHON = "/usr/bin/python3";

let work: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "offload example "));
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

function runExample(python: string, script: string, args: string[]) {
  return spawnSync(python, [script, ...args], { cwd: work, encoding: "utf8", timeout: 120_000 });
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

function torchMissingReason(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is missing`;
  const probe = spawnSync(SYSTEM_PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  return probe.status === 0
    ? undefined
    : `import torch fails: ${probe.stderr.trim().split("\n").pop()}`;
}

describe("examples/quickstart", () => {
  const script = join(EXAMPLES, "quickstart", "train.py");

  it("trains, prints one progress line an epoch and writes parseable outputs", () => {
    const run = runExample("python3", script, ["--epochs", "3"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const epochs = run.stdout.split("\n").filter((line) => line.startsWith("Epoch "));
    expect(epochs).toHaveLength(3);
    expect(epochs[2]).toMatch(/^Epoch 3\/3 - loss: \d+\.\d{4} - accuracy: \d\.\d{4}$/);
    const metrics = readJson(join(work, "outputs", "metrics.json")) as {
      final: { epoch: number; loss: number; accuracy: number };
      history: { loss: number }[];
    };
    expect(metrics.final.epoch).toBe(3);
    expect(metrics.history).toHaveLength(3);
    // It learns: the last epoch's loss is below the first's and beats guessing.
    expect(metrics.final.loss).toBeLessThan(metrics.history[0]?.loss ?? 0);
    expect(metrics.final.accuracy).toBeGreaterThan(0.7);
    const model = readJson(join(work, "outputs", "model.json")) as { w1: unknown[] };
    expect(model.w1).toHaveLength(16);
    // Atomic writes leave no temp file behind.
    expect(readdirSync(join(work, "outputs")).sort()).toEqual(["metrics.json", "model.json"]);
  });

  it("honours --out and gives the same numbers for the same seed", () => {
    const first = runExample("python3", script, ["--epochs", "2", "--out", "a b"]);
    const second = runExample("python3", script, ["--epochs", "2", "--out", "c"]);
    expect(first.status).toBe(0);
    expect(second.status).toBe(0);
    expect(readFileSync(join(work, "a b", "model.json"), "utf8")).toBe(
      readFileSync(join(work, "c", "model.json"), "utf8"),
    );
  });

  it("exits 3 after epoch 1 with --fail and writes no outputs", () => {
    const run = runExample("python3", script, ["--fail"]);
    expect(run.status).toBe(3);
    expect(run.stdout).toContain("Epoch 1/5");
    expect(run.stdout).not.toContain("Epoch 2/5");
    expect(run.stderr).toContain("--fail");
    expect(existsSync(join(work, "outputs"))).toBe(false);
  });
});

describe("examples/pytorch", () => {
  const script = join(EXAMPLES, "pytorch", "train.py");
  const skipReason = torchMissingReason();
  if (skipReason !== undefined) console.log(`skipping the pytorch example: ${skipReason}`);

  it.skipIf(skipReason !== undefined)(
    "trains with torch and writes a state_dict and metrics",
    () => {
      const run = runExample(SYSTEM_PYTHON, script, ["--epochs", "3"]);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^torch \S+ on (cpu|cuda) /m);
      const epochs = run.stdout.split("\n").filter((line) => line.startsWith("Epoch "));
      expect(epochs).toHaveLength(3);
      expect(epochs[2]).toMatch(/^Epoch 3\/3 loss=\d+\.\d{4} val_loss=\d+\.\d{4} acc=\d\.\d{4}$/);
      const metrics = readJson(join(work, "outputs", "metrics.json")) as {
        final: { epoch: number; acc: number };
        history: unknown[];
      };
      expect(metrics.final.epoch).toBe(3);
      expect(metrics.history).toHaveLength(3);
      expect(metrics.final.acc).toBeGreaterThan(0.8);
      expect(statSync(join(work, "outputs", "model.pt")).size).toBeGreaterThan(0);
      const load = spawnSync(
        SYSTEM_PYTHON,
        [
          "-c",
          "import sys, torch; print(sorted(torch.load(sys.argv[1]).keys()))",
          "outputs/model.pt",
        ],
        { cwd: work, encoding: "utf8" },
      );
      expect(load.stdout).toContain("0.weight");
      expect(readdirSync(join(work, "outputs")).sort()).toEqual(["metrics.json", "model.pt"]);
    },
  );

  it.skipIf(skipReason !== undefined)("exits 3 after epoch 1 with --fail", () => {
    const run = runExample(SYSTEM_PYTHON, script, ["--fail"]);
    expect(run.status).toBe(3);
    expect(run.stdout).toContain("Epoch 1/5");
    expect(run.stdout).not.toContain("Epoch 2/5");
    expect(existsSync(join(work, "outputs"))).toBe(false);
  });
});
