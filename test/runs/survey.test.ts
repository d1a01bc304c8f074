// The survey `ps`, `report` and the dashboard list from: records checked once are remembered by their
// run.json's inode, size and mtime, and anything that changed since is read and checked again, so a
// damaged record is reported as damaged whatever was remembered; a new run costs the journal one entry.
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRunId } from "../../src/runs/new-id.js";
import type { RunRecord } from "../../src/runs/record.js";
import { openRunStore } from "../../src/runs/store.js";
import { makeRecord } from "../support/record.js";

let project = "";
beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), "offload-survey-"));
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

function newRecord(id: string, status: RunRecord["status"] = "succeeded"): RunRecord {
  return makeRecord({ id, status, startedAt: new Date().toISOString() });
}

const ids = ["20261201-100000-aaaa", "20261201-100001-bbbb", "20261201-100002-cccc"];

describe("the survey of the run store", () => {
  it("sees each save, a damaged record and a new run after a survey was remembered", async () => {
    const store = openRunStore(project);
    for (const id of ids) await store.save(newRecord(id, "running"));
    const first = await store.survey();
    expect(first.records.map((r) => [r.id, r.status])).toEqual(ids.map((id) => [id, "running"]));

    await store.save(newRecord(ids[0] as string, "succeeded"));
    await writeFile(join(store.runDir(ids[1] as string), "run.json"), "{ not json");
    const added = createRunId();
    await store.save(newRecord(added));
    const second = await store.survey();
    expect(second.records.map((r) => [r.id, r.status])).toEqual([
      [ids[0], "succeeded"],
      [ids[2], "running"],
      [added, "succeeded"],
    ]);
    expect(second.damaged).toEqual([
      { id: ids[1], problem: expect.stringContaining("run.json is not valid JSON") },
    ]);
    // Reported damaged every time, never remembered as a record.
    expect((await store.survey()).damaged.map((d) => d.id)).toEqual([ids[1]]);
  });

  it("reads every record again when what it remembered is unreadable or lies about a file", async () => {
    const store = openRunStore(project);
    for (const id of ids) await store.save(newRecord(id));
    await store.survey();
    const journal = join(project, ".offload", "survey.journal");
    // A remembered record under a key no run.json has now is never used, even as the latest entry.
    const lie = JSON.parse(`[${(await readFile(journal, "utf8")).split("\n")[3]}0]`)[0];
    lie.key = "0:0:0";
    lie.record.status = "failed";
    await appendFile(journal, `${JSON.stringify(lie)},\n`);
    expect((await store.survey()).records.map((r) => r.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    // A torn last entry costs only itself.
    await appendFile(journal, '{"id": "20261201-1000');
    expect((await store.survey()).records).toHaveLength(3);
    await writeFile(journal, "garbage");
    expect((await store.survey()).records).toHaveLength(3);
    await rm(store.runDir(ids[0] as string), { recursive: true });
    expect((await store.survey()).records.map((r) => r.id)).toEqual(ids.slice(1));
  });

  it("costs an added run one appended entry, and stays a small multiple of the store", async () => {
    const store = openRunStore(project);
    for (const id of ids) await store.save(newRecord(id));
    await store.survey();
    const journal = join(project, ".offload", "survey.journal");
    const before = await readFile(journal, "utf8");
    const added = createRunId();
    await store.save(newRecord(added));
    expect((await store.survey()).records.map((r) => r.id)).toEqual([...ids, added]);
    const after = await readFile(journal, "utf8");
    // What was there is left as it was: the new run's entry is appended, nothing rewritten.
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length).split("\n")).toEqual([
      expect.stringContaining(`"id":"${added}"`),
      "",
    ]);
    // Each save of one run makes one entry stale: the journal is rewritten with the live ones in time.
    for (let i = 0; i < 150; i++) {
      await store.save({ ...newRecord(ids[0] as string), exitCode: i });
      await store.survey();
    }
    const lines = (await readFile(journal, "utf8")).split("\n").length;
    expect(lines).toBeLessThanOrEqual(2 + 2 * 4 + 64);
    expect((await store.survey()).records.find((r) => r.id === ids[0])?.exitCode).toBe(149);
  });
});
