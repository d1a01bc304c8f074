// The points of a sweep's plan as attach SWEEP lists them, and whether the plan's offload still runs.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRunId } from "../../src/runs/new-id.js";
import { openRunStore } from "../../src/runs/store.js";
import type { SweepPlan } from "../../src/runs/sweep-plan.js";
import { saveSweepPlan, sweepDir } from "../../src/runs/sweep-plan.js";
import { localOrigin } from "../../src/session/lock-origin.js";
import { resolveRunSet } from "../../src/session/run-set.js";
import {
  describeRunOf,
  describeSweepProcess,
  isUnstarted,
  placeOnGrid,
} from "../../src/session/sweep-points.js";

const plan = (origin?: string): SweepPlan => ({
  sweepId: "20261203-070000-00ab",
  command: ["sh", "-c", "echo {n}; train --n {n}"],
  grid: [{ n: "1" }, { n: "2" }, { n: "3 4" }],
  hosts: ["h1"],
  pid: process.pid,
  ...(origin === undefined ? {} : { origin }),
  startedAt: "2026-12-03T07:00:00.000Z",
});

describe("sweep points", () => {
  it("tells a live offload sweep from one that is gone, by pid and start time", () => {
    const own = localOrigin();
    expect(own).toBeDefined();
    expect(describeSweepProcess(plan(own))).toBe("running");
    // The same pid with another start time is another process: that offload is gone.
    const [machine, pid] = (own ?? "").split("/");
    expect(describeSweepProcess(plan(`${machine}/${pid}/1`))).toBe("ended");
    // Another machine's offload, or no origin, cannot be judged here.
    expect(describeSweepProcess(plan(`ffff-0000/${pid}/1`))).toBe("unknown");
    expect(describeSweepProcess(plan())).toBe("unknown");
    expect(describeSweepProcess(plan("not/an origin"))).toBe("unknown");
  });

  it("lists every grid point, a recorded run in its point's row, the others queued", () => {
    const started = { index: 1, params: { n: "2" }, state: "running" as const };
    const rows = placeOnGrid(plan(), [started]);
    expect(rows.map((row) => [row.index, row.state])).toEqual([
      [0, "queued"],
      [1, "running"],
      [2, "queued"],
    ]);
    expect(rows[1]).toBe(started);
    expect(rows.filter(isUnstarted).map((row) => row.index)).toEqual([0, 2]);
  });

  it("says the offload run of a point with its values filled in, quoted for a shell", () => {
    const point = { index: 2, params: { n: "3 4" }, state: "not started" as const };
    expect(describeRunOf(plan(), point)).toBe(
      `offload run -- sh -c 'echo {n}; train --n {n}'`.replaceAll("{n}", "3 4"),
    );
  });
});

describe("a sweep known only by its plan", () => {
  it("is found by its id or a start of it when none of its runs was recorded", async () => {
    const project = await mkdtemp(join(tmpdir(), "offload-sweep-points-"));
    const store = openRunStore(project);
    const sweepId = createRunId();
    await saveSweepPlan(store, { ...plan(), sweepId });
    // A stop mark alone (no plan) names no sweep.
    await mkdir(sweepDir(store, createRunId()), { recursive: true });
    const set = await resolveRunSet(store, sweepId.slice(0, 17));
    expect(set).toEqual({ kind: "sweep", sweepId, records: [] });
    await expect(resolveRunSet(store, "1999")).rejects.toMatchObject({ code: "E_RUN_NOT_FOUND" });
    await rm(project, { recursive: true, force: true });
  });
});
