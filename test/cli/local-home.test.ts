// The `local` target starts its scripts in $HOME, as an ssh login does: a HOME that does not exist is
// the user's to fix, and must say so (it was "offload hit a bug: spawn sh ENOENT", exit 250).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "offload-local-home-"));
  await writeFile(join(dir, "train.py"), "print('hi')\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("a HOME that does not exist is an error naming it, with a hint, not a bug", async () => {
  const home = join(dir, "no-such-home");
  const result = await runCli(["run", "--host", "local", "--", "true"], {
    cwd: dir,
    env: { HOME: home, XDG_CACHE_HOME: join(dir, "cache") },
  });
  expect(result.stderr).not.toContain("hit a bug");
  expect(result.stderr).toContain(`HOME (${home}) does not exist`);
  expect(result.stderr).toContain("Set HOME to a directory that exists");
  expect(result.code).toBe(200);
});
