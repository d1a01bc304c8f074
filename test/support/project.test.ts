// The temp-project helper copies an example as git has it, never what a user's own run left beside it.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyTracked } from "./project.js";

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "offload-copy-"));
});
afterEach(() => rm(base, { recursive: true, force: true }));

async function put(path: string, content = "x"): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, content);
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory()) found.push(...(await listFiles(join(dir, entry.name), `${path}/`)));
    else found.push(path);
  }
  return found.sort();
}

describe("copyTracked", () => {
  it("copies the tracked files of an example and leaves a run's store and outputs behind", async () => {
    const repo = join(base, "repo");
    const example = join(repo, "examples", "demo");
    await put(join(example, "train.py"));
    await put(join(example, "sub", "data.txt"));
    await put(join(repo, ".gitignore"), ".offload/\n");
    execFileSync("git", ["init", "-q", repo]);
    execFileSync("git", ["-C", repo, "add", "."]);
    // What `offload run` and the script leave in the tree after the README's first command.
    await put(join(example, ".offload", "runs", "20260101-000000-abcd", "run.json"), "{}");
    await put(join(example, "outputs", "metrics.json"), "{}");
    await put(join(example, "other-out", "model.json"), "{}");

    const dest = join(base, "copy");
    await copyTracked(example, dest);

    expect(await listFiles(dest)).toEqual(["sub/data.txt", "train.py"]);
  });

  it("outside a git checkout, copies all but the store, outputs and caches", async () => {
    const example = join(base, "plain");
    await put(join(example, "train.py"));
    await put(join(example, ".offload", "runs", "x", "run.json"), "{}");
    await put(join(example, "outputs", "metrics.json"), "{}");
    await put(join(example, "__pycache__", "train.pyc"));

    const dest = join(base, "copy");
    await copyTracked(example, dest);

    expect(await listFiles(dest)).toEqual(["train.py"]);
  });
});
