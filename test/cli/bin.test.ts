// The installed entry point (bin/offload.js → the esbuild bundle), as the README's first command uses it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, REPO, type TempProject } from "../support/project.js";

const run = promisify(execFile);
const BIN = join(REPO, "bin", "offload.js");
const built = existsSync(join(REPO, "dist", "offload.mjs"));
if (!built)
  process.stderr.write("[bin] skipping: dist/offload.mjs is missing (npm run build makes it)\n");

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describe.skipIf(!built)("bin/offload.js", () => {
  it("explains itself", async () => {
    const { stdout } = await run(process.execPath, [BIN, "run", "--help"]);
    expect(stdout).toContain("--no-wait");
    expect(stdout).toContain("--secret");
  });

  it("trains the quickstart example on the local target", async () => {
    project = await makeProject("quickstart");
    const { stdout, stderr } = await run(
      process.execPath,
      [BIN, "run", "--host", "local", "--", "python3", "train.py", "--epochs", "2"],
      {
        cwd: project.dir,
        env: { ...process.env, HOME: project.home, NO_COLOR: "1" },
      },
    );
    expect(stdout).toContain("Epoch 2/2");
    expect(stderr).toContain("finished (exit 0)");
  });
});
