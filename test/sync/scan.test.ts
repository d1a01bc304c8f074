import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanWorkspace } from "../../src/sync/scan.js";

let root: string;

async function put(path: string, content = "x"): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "offload-scan-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("scanWorkspace", () => {
  it("skips offload's defaults: VCS, state, virtualenvs, caches", async () => {
    for (const path of [
      ".git/HEAD",
      ".offload/runs/a/run.json",
      ".venv/bin/python",
      "venv/lib/x.py",
      "pkg/__pycache__/m.pyc",
      "node_modules/a/index.js",
      "train.py",
    ])
      await put(path);
    expect((await scanWorkspace(root)).files).toEqual(["train.py"]);
  });

  it("leaves out a .offload/ that offload makes after the scan (its first run's sync manifest)", async () => {
    await put("train.py");
    const scan = await scanWorkspace(root);
    expect(scan.excluded).toContain("/.offload/");
    await put(".offload/runs/a/run.json");
    expect((await scanWorkspace(root)).excluded).toEqual(["/.offload/"]);
  });

  it("follows .gitignore at every level, with negation and anchoring as git does", async () => {
    await put(".gitignore", "*.ckpt\n/data/\n!keep.ckpt\nlogs/\n");
    await put("sub/.gitignore", "local.txt\n");
    for (const path of [
      "a.ckpt",
      "keep.ckpt",
      "data/x.csv",
      "sub/data/y.csv",
      "sub/logs/1.txt",
      "sub/local.txt",
      "local.txt",
      "main.py",
    ])
      await put(path);
    expect((await scanWorkspace(root)).files).toEqual([
      ".gitignore",
      "keep.ckpt",
      "local.txt",
      "main.py",
      "sub/.gitignore",
      "sub/data/y.csv",
    ]);
  });

  it("adds .offloadignore and the settings' ignore list", async () => {
    await put(".offloadignore", "datasets/\n");
    for (const path of ["datasets/big.bin", "out/model.pt", "train.py"]) await put(path);
    expect((await scanWorkspace(root, ["out/"])).files).toEqual([".offloadignore", "train.py"]);
  });

  it("keeps hostile file names exactly", async () => {
    const names = [
      "with space.py",
      "it's.txt",
      "$(whoami).txt",
      "new\nline.txt",
      "-rf",
      "ünï ✓.txt",
    ];
    for (const name of names) await put(name, "12345");
    const result = await scanWorkspace(root);
    expect(result.files.sort()).toEqual([...names].sort());
  });

  it("lists symlinks as links without following them", async () => {
    await put("real/file.txt");
    await symlink("/etc", join(root, "etc-link"));
    const result = await scanWorkspace(root);
    expect(result.files).toEqual(["etc-link", "real/file.txt"]);
  });
});
