// A first sync's archive made once in memory for several hosts: real tar both ways; one that would pass
// its limit is not made, so each host's upload streams its own.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { createTarArchive } from "../../src/sync/tar-archive.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "offload-archive-"));
  dirs.push(dir);
  return dir;
}

it("archives the tree as the upload's tar stream would: unpacked, the same files and modes", async () => {
  const root = tempDir();
  mkdirSync(join(root, "src"));
  writeFileSync(join(root, "src", "a.py"), "print('a')\n");
  writeFileSync(join(root, "run.sh"), "echo run\n", { mode: 0o755 });
  const archive = await createTarArchive(root, ["src", "src/a.py", "run.sh"]);
  expect(archive).toBeDefined();
  const out = tempDir();
  execFileSync("tar", ["-xpf", "-"], { cwd: out, input: archive });
  expect(readFileSync(join(out, "src", "a.py"), "utf8")).toBe("print('a')\n");
  expect(statSync(join(out, "run.sh")).mode & 0o777).toBe(0o755);
});

it("makes no archive past its limit: the caller streams instead", async () => {
  const root = tempDir();
  writeFileSync(join(root, "big.bin"), Buffer.alloc(256 * 1024, 7));
  expect(await createTarArchive(root, ["big.bin"], 64 * 1024)).toBeUndefined();
  expect((await createTarArchive(root, ["big.bin"]))?.length).toBeGreaterThan(256 * 1024);
});

it("makes no archive when tar fails (a listed file gone): the caller's own tar reports it", async () => {
  const root = tempDir();
  expect(await createTarArchive(root, ["missing.txt"])).toBeUndefined();
});
