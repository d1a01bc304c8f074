// The local half of skipping an unchanged sync, on real files: what is recorded after a sync, and when
// nothing is (then the next run syncs).
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodePath } from "../../src/sync/raw-names.js";
import { matchesSyncState, readSyncState, writeSyncState } from "../../src/sync/sync-state.js";

let root: string;
let statePath: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "offload-state-"));
  statePath = join(root, ".offload", "synced", "k.state");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A file changed well before the sync started (the state refuses files changed during it). */
function put(name: string | Buffer): void {
  const path =
    typeof name === "string" ? join(root, name) : Buffer.concat([encodePath(`${root}/`), name]);
  writeFileSync(path, "x\n");
  utimesSync(path, 1_000_000, 1_000_000);
}

const synced = (files: string[]) => ({ syncedBy: "run-1", remoteDir: "/r", files });

describe("sync state", () => {
  it("records each file's stats, and the workspace as it was matches them", async () => {
    put("a.py");
    put("caf\u00e9.py");
    await writeSyncState(statePath, root, synced(["a.py", "caf\u00e9.py"]), Date.now() + 5000);
    const state = readSyncState(statePath);
    expect(state?.files).toEqual(["a.py", "caf\u00e9.py"]);
    expect(state && matchesSyncState(root, ["a.py", "caf\u00e9.py"], state)).toBe(true);
    writeFileSync(join(root, "a.py"), "changed\n");
    expect(state && matchesSyncState(root, ["a.py", "caf\u00e9.py"], state)).toBe(false);
  });

  it("keeps none where a name is not UTF-8, and removes one kept before", async () => {
    put("a.py");
    await writeSyncState(statePath, root, synced(["a.py"]), Date.now() + 5000);
    expect(existsSync(statePath)).toBe(true);
    put(Buffer.from([0x62, 0xe9, 0x2e, 0x70, 0x79])); // "bé.py" in Latin-1
    await writeSyncState(statePath, root, synced(["a.py", "b\udce9.py"]), Date.now() + 5000);
    expect(existsSync(statePath)).toBe(false);
  });

  it("counts the bytes of a file changed during the sync, though it keeps no state for it", async () => {
    put("a.py");
    writeFileSync(join(root, "b.py"), "just edited\n"); // changed now: after the sync started
    const sent = await writeSyncState(statePath, root, synced(["a.py", "b.py"]), Date.now() - 100);
    expect(sent).toBe("x\n".length + "just edited\n".length);
    expect(existsSync(statePath)).toBe(false);
  });
});
