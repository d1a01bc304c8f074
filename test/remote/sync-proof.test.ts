// The host's half of skipping an unchanged sync, as the prepare round trip runs it: the real script under
// the real sh and find, on this machine, with names a shell could misread.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/remote/layout.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import {
  quoteProofFiles,
  readSyncProof,
  SYNC_STAMP,
  type SyncProofRequest,
} from "../../src/remote/sync-proof.js";
import { LocalTransport } from "../../src/transport/local.js";

const SYNCED_BY = "20261201-120000-sync";
const FILES = ["train.py", "a dir/it's here.txt", "-dash", "new\nline", "$(touch pwned)"];
let dir: string;
const transport = new LocalTransport();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload proof 'q' "));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function prepare(runId: string, proof?: SyncProofRequest) {
  const result = await transport.exec(
    buildPrepareScript(dir, { runId, force: false, graceSeconds: 1 }, { proof }),
  );
  expect(result.code, result.stderr).toBe(0);
  // Each run frees the lock, as a launcher does when its job ends.
  rmSync(join(dir, LOCK_FILE));
  return {
    proven: readSyncProof(result.stderr),
    stamp: readFileSync(join(dir, SYNC_STAMP), "utf8"),
  };
}

/** Lets the clock pass the stamp's tick (file times are coarse), so a change after it is later. */
async function nextTick(): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < 30) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A sync: the stamp first (its prepare), then the files. */
async function sync(): Promise<SyncProofRequest> {
  await prepare(SYNCED_BY);
  for (const file of FILES) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), `content of ${file}\n`);
  }
  await nextTick();
  // The next run's prepare finds the sync's own writes after the stamp: it stamps anew (a no-op rsync).
  const settled = "20261201-120001-nop0";
  expect(
    (await prepare(settled, { syncedBy: SYNCED_BY, remoteDir: dir, files: FILES })).proven,
  ).toBe(false);
  await nextTick();
  return { syncedBy: settled, remoteDir: dir, files: FILES };
}

describe("the sync proof in the prepare round trip", () => {
  it("proves files untouched since the stamp, and leaves the stamp as it is", async () => {
    const proof = await sync();
    const again = await prepare("20261201-120002-run1", proof);
    expect(again.proven).toBe(true);
    expect(again.stamp).toBe(`${proof.syncedBy}\n`);
    expect(readFileSync(join(dir, "$(touch pwned)"), "utf8")).toContain("content");
  });

  it.each([
    ["an edit", () => writeFileSync(join(dir, "train.py"), "edited\n")],
    ["a chmod", () => chmodSync(join(dir, "a dir/it's here.txt"), 0o600)],
    ["a removal", () => rmSync(join(dir, "new\nline"))],
    [
      "a folder in a file's place",
      () => {
        rmSync(join(dir, "-dash"));
        mkdirSync(join(dir, "-dash"));
      },
    ],
  ])("does not prove after %s, and stamps this run", async (_, change) => {
    const proof = await sync();
    change();
    const run = await prepare("20261201-120003-run2", proof);
    expect(run.proven).toBe(false);
    expect(run.stamp).toBe("20261201-120003-run2\n");
  });

  it("does not prove when another run stamped since, or the remote dir is another folder", async () => {
    const proof = await sync();
    expect(
      (await prepare("20261201-120004-run3", { ...proof, remoteDir: `${dir}/x` })).proven,
    ).toBe(false);
    expect((await prepare("20261201-120005-run4", proof)).proven).toBe(false);
  });

  it("leaves a list too long for one command line unproven", () => {
    expect(quoteProofFiles(["a", "b"])).toBe("./a ./b");
    expect(quoteProofFiles(Array.from({ length: 5000 }, (_, i) => `folder/file-${i}.py`))).toBe(
      undefined,
    );
  });
});
