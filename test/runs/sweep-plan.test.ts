// A sweep's plan is read back as written, a sweep without one reads as none, and a damaged one is a
// clear E_RUN_DAMAGED naming the file, as a damaged run.json is.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRunId } from "../../src/runs/new-id.js";
import { openRunStore } from "../../src/runs/store.js";
import {
  loadSweepPlan,
  type SweepPlan,
  saveSweepPlan,
  sweepDir,
} from "../../src/runs/sweep-plan.js";

let project = "";
beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), "offload-sweep-plan-"));
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

const planOf = (sweepId: string): SweepPlan => ({
  sweepId,
  command: ["python", "train.py", "--lr", "{lr}"],
  grid: [{ lr: "1e-3" }, { lr: "1e-4" }],
  hosts: ["gpu-a", "gpu-b"],
  pid: 4242,
  origin: "abc-def/4242/123",
  startedAt: "2026-12-03T07:00:00.000Z",
});

describe("sweep plan", () => {
  it("reads back the plan saved, leaving no temp file beside it; a sweep without one has none", async () => {
    const store = openRunStore(project);
    const sweepId = createRunId();
    expect(await loadSweepPlan(store, sweepId)).toBeUndefined();
    await saveSweepPlan(store, planOf(sweepId));
    expect(await loadSweepPlan(store, sweepId)).toEqual(planOf(sweepId));
    expect(await readdir(sweepDir(store, sweepId))).toEqual(["plan.json"]);
    // Beside runs/, not in it: `ps` does not list the sweep's folder as a damaged run.
    expect((await store.survey()).damaged).toEqual([]);
  });

  it("refuses a damaged plan with E_RUN_DAMAGED naming its file", async () => {
    const store = openRunStore(project);
    const sweepId = createRunId();
    const path = join(sweepDir(store, sweepId), "plan.json");
    await mkdir(sweepDir(store, sweepId), { recursive: true });
    const damaged = [
      ["{ half", /not valid JSON/],
      [JSON.stringify({ ...planOf(sweepId), grid: [{ lr: 3 }] }), /grid\.0\.lr/],
      [JSON.stringify({ ...planOf(sweepId), pid: -1 }), /pid/],
      [JSON.stringify(planOf(createRunId())), /names sweep/],
    ] as const;
    for (const [text, problem] of damaged) {
      await writeFile(path, text);
      const error = await loadSweepPlan(store, sweepId).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "E_RUN_DAMAGED" });
      expect((error as Error).message).toMatch(problem);
      expect((error as { hint?: string }).hint).toContain(path);
    }
  });

  it("makes no path of an id offload did not make", () => {
    const store = openRunStore(project);
    expect(() => sweepDir(store, "../../etc")).toThrow(/not a sweep id/);
  });
});
