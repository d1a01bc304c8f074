// The installed entry point (bin/offload.js → the esbuild bundle), as the README's first command uses it.
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, REPO, type TempProject } from "../support/project.js";

const run = promisify(execFile);
const BIN = join(REPO, "bin", "offload.js");
const built = existsSync(join(REPO, "dist", "offload.cjs"));
if (!built)
  process.stderr.write("[bin] skipping: dist/offload.cjs is missing (npm run build makes it)\n");

let project: TempProject | undefined;
let scratch: string | undefined;
afterEach(async () => {
  await project?.remove();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  project = scratch = undefined;
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

  it("starts from an ASCII-only bundle, which it reads as latin1", () => {
    const bytes = readFileSync(join(REPO, "dist", "offload.cjs"));
    const firstOther = bytes.findIndex((byte) => byte >= 0x80);
    expect(firstOther).toBe(-1);
  });

  it("keeps zod's English messages (the build keeps only that locale)", async () => {
    project = await makeProject("quickstart");
    // A message offload leaves in zod's words (most wrong types and sizes it words itself).
    writeFileSync(
      join(project.dir, "offload.yaml"),
      "targets:\n  box:\n    cloud: lambda\n    lambda: { base_url: nope }\n",
    );
    const failed = await run(process.execPath, [BIN, "config"], { cwd: project.dir }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(200);
    expect(failed?.stderr).toContain("targets.box.lambda.base_url: Invalid URL");
  });

  it("says how to build the CLI when the bundle is missing", async () => {
    scratch = mkdtempSync(join(tmpdir(), "offload-bin-"));
    mkdirSync(join(scratch, "bin"));
    for (const file of ["offload.js", "package.json"])
      copyFileSync(join(REPO, "bin", file), join(scratch, "bin", file));
    const failed = await run(process.execPath, [join(scratch, "bin", "offload.js"), "ps"]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(200);
    expect(failed?.stderr).toContain("error E_NOT_BUILT");
    expect(failed?.stderr).toContain(join(scratch, "dist", "offload.cjs"));
    expect(failed?.stderr).toContain("hint: run `npm run build`");
  });
});
