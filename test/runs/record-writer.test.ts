// One owner of a run's record: updates are applied in order and run.json always ends at the newest
// state, even when a save is left running (a `void save`) while a newer one is made.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRunId } from "../../src/runs/new-id.js";
import type { RunRecord } from "../../src/runs/record.js";
import { amendRecord, createRecordWriter } from "../../src/runs/record-writer.js";
import { openRunStore } from "../../src/runs/store.js";
import { makeRecord } from "../support/record.js";

let project = "";
beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), "offload-writer-"));
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

function newRecord(): RunRecord {
  return makeRecord({
    id: createRunId(),
    status: "launching",
    exitCode: null,
    startedAt: new Date().toISOString(),
  });
}

async function readSaved(dir: string): Promise<RunRecord> {
  return JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as RunRecord;
}

/** Waits until a write of run.json has begun: its temp file is there. */
async function writeBegun(dir: string): Promise<void> {
  for (;;) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.some((name) => name.startsWith("run.json.tmp-"))) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("the record writer", () => {
  it("ends in the newest state when many updates are made without waiting for each save", async () => {
    const store = openRunStore(project);
    const writer = createRecordWriter(store, newRecord());
    const saves: Promise<void>[] = [];
    for (let offset = 1; offset <= 50; offset++) {
      saves.push(writer.update({ status: "running", logBytes: offset }));
      if (offset % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    saves.push(writer.update({ status: "succeeded", exitCode: 0, logBytes: 51 }));
    await Promise.all(saves);
    const saved = await readSaved(store.runDir(writer.record.id));
    expect(saved).toMatchObject({ status: "succeeded", exitCode: 0, logBytes: 51 });
    expect(saved).toEqual(writer.record);
  });

  it("never lets a slower save started earlier put an older state over a newer one", async () => {
    const store = openRunStore(project);
    const record = newRecord();
    const writer = createRecordWriter(store, record);
    await writer.save();
    const dir = store.runDir(record.id);
    // A big state takes long to write; the next, small one is quick.
    const late = writer.update({ command: ["x".repeat(16 * 1024 * 1024)], status: "running" });
    await writeBegun(dir);
    await writer.update({ command: ["true"], status: "succeeded", exitCode: 0 });
    await late;
    const saved = await readSaved(dir);
    expect(saved.status).toBe("succeeded");
    expect(saved.command).toEqual(["true"]);
  });

  it("removes a run whose save is still being written: no folder is left, and no error", async () => {
    const store = openRunStore(project);
    const writer = createRecordWriter(store, newRecord());
    await writer.save();
    const dir = store.runDir(writer.record.id);
    // A launch that started nothing drops its record while an update of it may still be in flight.
    const late = writer.update({ command: ["x".repeat(16 * 1024 * 1024)], status: "running" });
    await writeBegun(dir);
    await store.remove(writer.record.id);
    await late;
    expect(await readdir(project)).not.toContain(writer.record.id);
    await expect(readdir(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("removes a field set to undefined, and leaves the others as they were", async () => {
    const store = openRunStore(project);
    const writer = createRecordWriter(store, newRecord());
    await writer.update({ error: { code: "E_DOWNLOAD", message: "not home" }, exitCode: 0 });
    await writer.update({ error: undefined });
    const saved = await readSaved(store.runDir(writer.record.id));
    expect("error" in saved).toBe(false);
    expect(saved.exitCode).toBe(0);
    expect(writer.record.error).toBeUndefined();
  });
});

describe("the record's one owner", () => {
  it("shows a record the compiler keeps from being changed but through the writer", async () => {
    const store = openRunStore(project);
    const writer = createRecordWriter(store, newRecord());
    // @ts-expect-error the record a writer shows is readonly
    writer.record.status = "running";
    // @ts-expect-error and so is what it holds (deep-readonly)
    writer.record.phases.run = 1;
    writer.set({ status: "succeeded" });
    expect(writer.record.status).toBe("succeeded");
    // A snapshot is a copy: changing it changes nothing the writer saves.
    const copy = writer.snapshot();
    copy.status = "failed";
    await writer.save();
    expect((await readSaved(store.runDir(writer.record.id))).status).toBe("succeeded");
  });

  it("set() waits for the next save; amendRecord changes a stored record or leaves it", async () => {
    const store = openRunStore(project);
    const record = newRecord();
    const writer = createRecordWriter(store, record);
    await writer.save();
    writer.set({ stopRequested: true });
    expect((await readSaved(store.runDir(record.id))).stopRequested).toBeUndefined();
    await writer.update({ logBytes: 7 });
    expect(await readSaved(store.runDir(record.id))).toMatchObject({
      stopRequested: true,
      logBytes: 7,
    });
    const left = await amendRecord(store, record.id, () => undefined);
    expect(left.logBytes).toBe(7);
    const amended = await amendRecord(store, record.id, (stored) => ({
      logBytes: stored.logBytes + 1,
      stopRequested: undefined,
    }));
    const saved = await readSaved(store.runDir(record.id));
    expect(saved.logBytes).toBe(8);
    expect("stopRequested" in saved).toBe(false);
    expect(amended).toEqual(saved);
  });

  it("is the only way code outside src/runs/ saves a record", async () => {
    const src = join(import.meta.dirname, "..", "..", "src");
    const entries = await readdir(src, { recursive: true, withFileTypes: true });
    const saving: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const path = join(entry.parentPath, entry.name);
      if (path.startsWith(join(src, "runs"))) continue;
      const text = await readFile(path, "utf8");
      if (/\bstore\s*\)?\s*\.save\s*\(/.test(text)) saving.push(path.slice(src.length + 1));
    }
    expect(saving).toEqual([]);
  });
});
