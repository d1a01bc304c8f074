// `offload ps` and `offload report` on a project with 1,000 runs, beside `node -e ''` (issue 17: ≤ node +
// 100 ms). The store is generated: finished runs, so `ps` has no host to ask.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../src/runs/record.js";
import type { BenchContext } from "./context.js";
import { comparePlusFloor, type Result, Samples } from "./result.js";
import { alternate, mustTime } from "./tools.js";

const RUNS = 1000;

function makeStore(project: string): void {
  for (let i = 0; i < RUNS; i++) {
    const clock = `${String(Math.floor(i / 3600) % 24).padStart(2, "0")}${String(Math.floor(i / 60) % 60).padStart(2, "0")}${String(i % 60).padStart(2, "0")}`;
    const id = `20261130-${clock}-${(i % 1296).toString(36).padStart(4, "0")}`;
    const record: RunRecord = {
      version: 1,
      id,
      command: ["python", "train.py", "--seed", String(i)],
      target: { label: "gpu-box", kind: "ssh", host: "gpu-box", remoteDir: "/home/me/work" },
      status: i % 10 === 0 ? "failed" : "succeeded",
      exitCode: i % 10 === 0 ? 1 : 0,
      startedAt: new Date(Date.UTC(2026, 10, 30) + i * 1000).toISOString(),
      finishedAt: new Date(Date.UTC(2026, 10, 30) + i * 1000 + 60_000).toISOString(),
      phases: { connect: 60, sync: 100, launch: 50, run: 60_000, download: 20, total: 60_300 },
      sync: { tool: "rsync", scanned: 120, transferred: 3, bytes: 4096 },
      envNames: ["PYTHONUNBUFFERED"],
      download: [],
      artifacts: ["model.pt"],
      mappedFiles: [],
      logBytes: 2048,
      tags: { lr: String(i / 1000) },
    };
    const dir = join(project, ".offload", "runs", id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "run.json"), `${JSON.stringify(record, null, 2)}\n`);
    writeFileSync(join(dir, "output.log"), "epoch 1 loss 0.5\n".repeat(120));
  }
}

export async function measureStore(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const project = join(ctx.scratch, "many-runs");
  mkdirSync(project, { recursive: true });
  makeStore(project);
  const call = (args: string[]) =>
    mustTime([...ctx.offload, ...args], { cwd: project, env: ctx.env, discardStdout: true });
  const s = new Samples();
  // The first survey reads and checks every record, and remembers them; every later one stats them.
  s.add("ps, first survey", (await call(["ps"])).ms);
  for (let i = 0; i < repeats; i++) {
    await alternate(
      i,
      async () => s.add("node -e ''", (await mustTime([process.execPath, "-e", ""])).ms),
      async () => {
        s.add("ps", (await call(["ps"])).ms);
        s.add("report", (await call(["report"])).ms);
      },
    );
  }
  rmSync(project, { recursive: true, force: true });
  const what = (command: string) => ({
    offload: `\`offload ${command}\` in a project with ${RUNS} finished runs, whole wall time`,
    baseline: "`node -e ''`, alternating with it",
  });
  return [
    comparePlusFloor({
      measure: `ps, ${RUNS} runs`,
      offload: s.get("ps"),
      floor: s.get("node -e ''"),
      plusMs: 100,
      what: what("ps"),
      details: s.medians(["ps, first survey"]),
    }),
    comparePlusFloor({
      measure: `report, ${RUNS} runs`,
      offload: s.get("report"),
      floor: s.get("node -e ''"),
      plusMs: 100,
      what: what("report"),
    }),
  ];
}
