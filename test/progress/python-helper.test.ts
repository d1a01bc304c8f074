import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createLogParser } from "../../src/progress/stream.js";

const pythonDir = fileURLToPath(new URL("../../python", import.meta.url));
const python = ["/usr/bin/python3", "python3"].find(
  (bin) => spawnSync(bin, ["--version"]).status === 0,
);
const script = `
import offload
print("starting")
offload.report(step=1, epoch=1, epochs=2, loss=0.5, acc=0.25)
offload.report(step=2, loss=float("nan"), lr=float("inf"))
`;

if (python === undefined) process.stderr.write("[python helper] skipping: no python3 found\n");

describe.skipIf(python === undefined)("python helper", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("prints reports that the log parser reads back, and appends them to OFFLOAD_EVENTS", () => {
    const dir = mkdtempSync(join(tmpdir(), "offload-py-"));
    dirs.push(dir);
    const events = join(dir, "events.jsonl");
    const run = spawnSync(python as string, ["-c", script], {
      env: { ...process.env, PYTHONPATH: pythonDir, OFFLOAD_EVENTS: events },
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const parser = createLogParser();
    const parsed = [...parser.push(run.stdout), ...parser.end()];
    expect(parsed).toEqual([
      { type: "progress", step: 1, epoch: 1, epochs: 2, source: "offload" },
      { type: "metric", name: "loss", value: 0.5, step: 1, epoch: 1, source: "offload" },
      { type: "metric", name: "acc", value: 0.25, step: 1, epoch: 1, source: "offload" },
      { type: "progress", step: 2, source: "offload" },
      { type: "metric", name: "loss", value: Number.NaN, step: 2, source: "offload" },
      { type: "metric", name: "lr", value: Number.POSITIVE_INFINITY, step: 2, source: "offload" },
    ]);
    const fromFile = createLogParser();
    expect([...fromFile.push(readFileSync(events, "utf8")), ...fromFile.end()]).toEqual(parsed);
  });
});
