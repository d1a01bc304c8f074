// A same-size edit within the second of the last sync reaches the host (rsync's quick check compares
// whole seconds unless told otherwise).
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

it("syncs a same-size edit made within the same second as the previous sync", async () => {
  project = await makeProject();
  const p = project;
  const offload = (args: string[]) => runCli(args, { cwd: p.dir, env: { HOME: p.home } });
  const file = join(p.dir, "train.py");
  // Both versions carry mtimes in one whole second, 0.1 s and 0.6 s into it.
  const second = Math.floor(Date.now() / 1000) - 60;
  await p.write("train.py", "v1\n");
  await utimes(file, second + 0.1, second + 0.1);
  const first = await offload(["run", "--host", "local", "--", "cat", "train.py"]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toBe("v1\n");
  await p.write("train.py", "v2\n");
  await utimes(file, second + 0.6, second + 0.6);
  const again = await offload(["run", "--host", "local", "--", "cat", "train.py"]);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toBe("v2\n");
});
