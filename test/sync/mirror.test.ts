// Deletions mirrored, with real files and the real removal script under sh: what is removed remotely,
// and what never is.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planRemovals, readManifest, removeRemote, writeManifest } from "../../src/sync/mirror.js";
import { scanWorkspace } from "../../src/sync/scan.js";
import { LocalTransport } from "../../src/transport/local.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "offload-mirror-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function put(path: string, text = "x\n"): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe("planRemovals", () => {
  it("removes what is gone here, keeps what exists here or the rules leave out", async () => {
    const here = join(root, "here");
    mkdirSync(here);
    const write = (path: string) => {
      mkdirSync(dirname(join(here, path)), { recursive: true });
      writeFileSync(join(here, path), "x");
    };
    write("keep.py");
    write("now-ignored.bin");
    write("sub/deeper/still.py");
    write(".gitignore");
    writeFileSync(join(here, ".gitignore"), "now-ignored.bin\n*.log\ncache/\n");
    const scan = await scanWorkspace(here);
    const previous = [
      "keep.py",
      "gone.py",
      "now-ignored.bin",
      "run.log",
      "cache/x",
      "old/a/b.txt",
      "sub/deeper/gone.py",
    ];
    const plan = planRemovals(previous, scan.files, here, scan.ignores);
    expect(plan.files).toEqual(["gone.py", "old/a/b.txt", "sub/deeper/gone.py"]);
    expect(plan.dirs).toEqual(["old/a", "old"]);
  });
});

describe("the removal on the host", () => {
  it("removes the files and emptied folders, never through a symlinked folder", async () => {
    put("remote/gone.txt");
    put("remote/old/a/b.txt");
    put("remote/old/a/job-made.txt");
    put("outside/secret.txt");
    symlinkSync(join(root, "outside"), join(root, "remote", "lnk"));
    await removeRemote(new LocalTransport(), join(root, "remote"), {
      files: ["gone.txt", "old/a/b.txt", "lnk/secret.txt"],
      dirs: ["old/a", "old"],
    });
    expect(existsSync(join(root, "remote/gone.txt"))).toBe(false);
    expect(existsSync(join(root, "remote/old/a/b.txt"))).toBe(false);
    // A folder that still holds a file the job made stays.
    expect(existsSync(join(root, "remote/old/a/job-made.txt"))).toBe(true);
    expect(existsSync(join(root, "outside/secret.txt"))).toBe(true);
  });

  it("keeps names with newlines, quotes and leading dashes whole in the manifest", async () => {
    const names = ["-rf", "a\nb", "it's", "sp ace/x"];
    const path = join(root, ".offload/synced/k");
    // Not UTF-8: the scan's surrogate escape of byte 0xe9 (src/sync/raw-names.ts) survives too.
    await writeManifest(path, [...names, "caf\udce9.txt"]);
    expect(await readManifest(path)).toEqual([...names, "caf\udce9.txt"]);
    for (const name of names) put(`remote/${name}`);
    const latin1 = Buffer.concat([
      Buffer.from(join(root, "remote/caf")),
      Buffer.from([0xe9, 0x2e]),
    ]);
    writeFileSync(latin1, "x");
    await removeRemote(new LocalTransport(), join(root, "remote"), {
      files: [...names, "caf\udce9."],
      dirs: ["sp ace"],
    });
    for (const name of names) expect(existsSync(join(root, "remote", name))).toBe(false);
    expect(existsSync(latin1)).toBe(false);
    expect(existsSync(join(root, "remote/sp ace"))).toBe(false);
  });
});
