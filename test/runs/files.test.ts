// The run folder's files are read and written only through runs/: by run id, checked, with one format.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendMetrics } from "../../src/runs/files.js";
import { createRunId } from "../../src/runs/new-id.js";
import { openRunStore } from "../../src/runs/store.js";
import { makeRecord } from "../support/record.js";

let project = "";
beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), "offload-files-"));
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

const runningRecord = (id: string) =>
  makeRecord({ id, status: "running", exitCode: null, startedAt: new Date().toISOString() });

describe("run folder files", () => {
  it("reads back the metrics appended to a run, and nothing for a run that reported none", async () => {
    const store = openRunStore(project);
    const id = createRunId();
    await store.save(runningRecord(id));
    expect(await store.readMetrics(id)).toBe("");
    expect(await store.readLog(id)).toBe("");
    appendMetrics(store.runDir(id), [{ name: "loss", value: 0.5, step: 1 }]);
    appendMetrics(store.runDir(id), []);
    const lines = (await store.readMetrics(id)).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ name: "loss", value: 0.5, step: 1 });
    expect(await readFile(join(store.runDir(id), "metrics.jsonl"), "utf8")).toBe(`${lines[0]}\n`);
    expect(store.reportPath(id)).toBe(join(store.runDir(id), "report.html"));
  });

  it("never appends to or reads through a symlink or a folder in a run folder", async () => {
    const store = openRunStore(project);
    const id = createRunId();
    await store.save(runningRecord(id));
    const outside = join(project, "outside");
    await writeFile(outside, "mine\n");
    for (const name of ["output.log", "metrics.jsonl"])
      await symlink(outside, join(store.runDir(id), name));
    await mkdir(join(store.runDir(id), "machine.txt"));
    const damaged = { code: "E_RUN_DAMAGED" };
    expect(() => appendMetrics(store.runDir(id), [{ name: "loss", value: 1 }])).toThrow(
      /metrics\.jsonl is a symlink/,
    );
    expect(() => store.openLog(id)).toThrow(/output\.log is a symlink/);
    expect(() => store.openSamples(id)).toThrow(/machine\.txt is a folder/);
    await expect(store.readLog(id)).rejects.toMatchObject(damaged);
    await expect(store.readMetrics(id)).rejects.toMatchObject(damaged);
    await expect(store.readSamples(id)).rejects.toMatchObject(damaged);
    await expect(store.logSize(id)).rejects.toMatchObject(damaged);
    await expect(store.readLogTail(id, 100)).rejects.toMatchObject(damaged);
    expect(await readFile(outside, "utf8")).toBe("mine\n");
    // The follower mark a refused open took is given back.
    expect(store.followerOf(id)).toBeUndefined();
  });

  it("refuses a name that is not a run id before it becomes a path", async () => {
    const store = openRunStore(project);
    await expect(store.readMetrics("../../etc")).rejects.toMatchObject({ code: "E_RUN_NOT_FOUND" });
    await expect(store.readLog("x/../y")).rejects.toMatchObject({ code: "E_RUN_NOT_FOUND" });
    expect(() => store.reportPath("..")).toThrow(/not a run id/);
  });

  it("resolves a name that is also part of several ids to the run of that name", async () => {
    const store = openRunStore(project);
    const first = "20261202-085654-aaaa";
    const named = "20261202-085655-bbbb";
    await store.save(runningRecord(first));
    await store.save({ ...runningRecord(named), name: "20261202" });
    expect(await store.resolveId("20261202")).toBe(named);
    // An id part that names one run still wins over a name.
    await store.save({ ...runningRecord("20261202-085656-cccc"), name: "aaaa" });
    expect(await store.resolveId("aaaa")).toBe(first);
    await expect(store.resolveId("2026")).rejects.toMatchObject({ code: "E_RUN_NOT_FOUND" });
  });

  it("resolves an empty run argument to no run, even when the project has only one", async () => {
    const store = openRunStore(project);
    const id = createRunId();
    await store.save(runningRecord(id));
    expect(await store.resolveId(id.slice(0, 10))).toBe(id);
    await expect(store.resolveId("")).rejects.toMatchObject({ code: "E_RUN_NOT_FOUND" });
  });
});
