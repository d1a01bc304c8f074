import { spawnSync } from "node:child_process";
import { existsSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildActivateLines,
  ENV_READY_FILE,
  explainEnvFailure,
  hashEnvInputs,
} from "../../src/pyenv/index.js";
import {
  type EnvBed,
  HAS_VENV,
  keyOf,
  PYTHON,
  planFor,
  runEnvScript,
  runInEnv,
  useEnvBed,
  writeWorkspaceFile,
} from "./venv-fixture.js";

let bed: EnvBed;
useEnvBed((made) => {
  bed = made;
});

describe.skipIf(!HAS_VENV)("the cached Python env", () => {
  it("builds once with the workspace's requirements, then reuses the env without running pip", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==1.0\n");
    const plan = planFor(bed, { key: keyOf("tinypkg==1.0\n") });

    const first = await runEnvScript(bed, plan);
    expect(first.code, first.stdout).toBe(0);
    expect(first.result?.status).toBe("built");
    expect(first.stdout).toContain("Successfully installed tinypkg-1.0");
    if (first.result?.status !== "built") throw new Error("unreachable");
    const { dir, binDir } = first.result;
    expect(dir.startsWith(join(bed.home, ".offload", "envs", plan.key))).toBe(true);
    expect(dir).toMatch(/-py3\.\d+\.\d+-[0-9a-f]{6}$/);
    expect(runInEnv(binDir, "import tinypkg; print(tinypkg.VERSION)").out).toBe("1.0");
    expect(existsSync(`${dir}.lock`)).toBe(false);

    // A reuse renews the ready file's time: `offload env prune` goes by last use.
    const ready = join(dir, ENV_READY_FILE);
    utimesSync(ready, 1_000_000, 1_000_000);
    const second = await runEnvScript(bed, plan);
    expect(second.code).toBe(0);
    expect(second.result).toEqual({ status: "reused", dir, binDir });
    expect(second.stdout).toBe("");
    expect(Date.now() - statSync(ready).mtimeMs).toBeLessThan(60_000);
  });

  it("puts the env first on PATH for the job through the activate lines", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==2.0\n");
    const built = await runEnvScript(bed, planFor(bed, { key: keyOf("tinypkg==2.0\n") }));
    if (built.result?.status !== "built") throw new Error(built.stdout);
    const job = [
      ...buildActivateLines(built.result.binDir),
      `python -c 'import os, sys, tinypkg; print(sys.prefix == os.environ["VIRTUAL_ENV"], tinypkg.VERSION)'`,
    ].join("\n");
    const ran = spawnSync("/bin/sh", ["-c", job], { encoding: "utf8", env: bed.env });
    expect(ran.stderr).toBe("");
    expect(ran.stdout.trim()).toBe("True 2.0");
  });

  it("builds a separate env when the requirements change, keeping the old one", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==1.0\n");
    const old = await runEnvScript(bed, planFor(bed, { key: keyOf("tinypkg==1.0\n") }));
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==2.0\n");
    const changed = await runEnvScript(bed, planFor(bed, { key: keyOf("tinypkg==2.0\n") }));

    expect(changed.result?.status).toBe("built");
    if (old.result?.status !== "built" || changed.result?.status !== "built")
      throw new Error("unreachable");
    expect(changed.result.dir).not.toBe(old.result.dir);
    expect(runInEnv(changed.result.binDir, "import tinypkg; print(tinypkg.VERSION)").out).toBe(
      "2.0",
    );
    expect(runInEnv(old.result.binDir, "import tinypkg; print(tinypkg.VERSION)").out).toBe("1.0");
  });

  it("installs the dependencies a pyproject.toml lists", async () => {
    const pyproject =
      '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["tinypkg==2.0"]\n';
    writeWorkspaceFile(bed, "pyproject.toml", pyproject);
    const key = hashEnvInputs([{ path: "pyproject.toml", content: pyproject }], PYTHON, false);
    const built = await runEnvScript(bed, planFor(bed, { key, requirements: ["pyproject.toml"] }));
    if (built.result?.status !== "built") throw new Error(built.stdout);
    expect(runInEnv(built.result.binDir, "import tinypkg; print(tinypkg.VERSION)").out).toBe("2.0");
  });

  it("reports a missing interpreter as its own failure", async () => {
    const run = await runEnvScript(bed, planFor(bed, { interpreter: "no-such-python3" }));
    expect(run.code).toBe(127);
    expect(run.result).toMatchObject({ status: "failed", code: 127 });
    if (run.result?.status !== "failed") throw new Error("unreachable");
    expect(run.result.tail).toContain("no-such-python3");
    expect(explainEnvFailure(run.result, "box").hint).toContain("python.interpreter");
  });
});
