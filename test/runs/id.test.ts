import { describe, expect, it } from "vitest";
import { isRunId } from "../../src/runs/id.js";
import { createRunId } from "../../src/runs/new-id.js";

describe("run ids", () => {
  it("sort by start time within one second, so the latest run is the one started last", () => {
    const base = Date.parse("2026-12-01T10:00:00.000Z");
    const ids = [0, 1, 9, 10, 35, 36, 500, 998, 999].map((ms) => createRunId(new Date(base + ms)));
    for (const id of ids) expect(isRunId(id), id).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(createRunId(new Date(base + 1000)) > (ids.at(-1) ?? "")).toBe(true);
  });

  it("never repeat in one process, even for runs started in the same millisecond (a sweep's)", () => {
    const now = new Date("2026-12-01T10:00:00.123Z");
    // 200 draws of 1,296 suffixes: without the process's own check a repeat is all but certain.
    const ids = new Set(Array.from({ length: 200 }, () => createRunId(now)));
    expect(ids.size).toBe(200);
  });
});
