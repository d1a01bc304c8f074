import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explainEnvFailure } from "../../src/pyenv/index.js";
import {
  type EnvBed,
  HAS_VENV,
  keyOf,
  planFor,
  runEnvScript,
  useEnvBed,
  writeWorkspaceFile,
} from "./venv-fixture.js";

let bed: EnvBed;
useEnvBed((made) => {
  bed = made;
});

describe.skipIf(!HAS_VENV)("a cached Python env that fails or breaks", () => {
  it("fails with pip's own error, keeps nothing, and builds from scratch next time", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==9.9\n");
    const plan = planFor(bed, { key: keyOf("tinypkg==9.9\n") });
    const failed = await runEnvScript(bed, plan);

    // pip's own status for "No matching distribution" (1), passed through by the env script.
    expect(failed.code).toBe(1);
    expect(failed.result?.status).toBe("failed");
    if (failed.result?.status !== "failed") throw new Error("unreachable");
    expect(failed.result.code).toBe(failed.code);
    expect(failed.result.tail).toMatch(/No matching distribution found for tinypkg==9\.9/);
    const error = explainEnvFailure(failed.result, "gpu-box");
    expect(error.code).toBe("E_ENV");
    expect(error.output).toContain("tinypkg==9.9");
    // Neither a half-built env nor a lock stays behind to be mistaken for a good one.
    expect(readdirSync(join(bed.home, ".offload", "envs"))).toEqual([]);

    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==1.0\n");
    const again = await runEnvScript(bed, plan);
    expect(again.result?.status).toBe("built");
  });

  it("wipes a half-built env (no ready file) and builds it again; rebuild does so even when ready", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==1.0\n");
    const plan = planFor(bed, { key: keyOf("tinypkg==1.0\n") });
    const first = await runEnvScript(bed, plan);
    if (first.result?.status !== "built") throw new Error(first.stdout);
    const { dir } = first.result;
    rmSync(join(dir, ".offload-ready"));
    writeFileSync(join(dir, "left-over"), "from a build that died");

    const rebuilt = await runEnvScript(bed, plan);
    expect(rebuilt.result?.status).toBe("built");
    expect(existsSync(join(dir, "left-over"))).toBe(false);

    writeFileSync(join(dir, "left-over"), "in a ready env");
    const forced = await runEnvScript(bed, { ...plan, rebuild: true });
    expect(forced.result?.status).toBe("built");
    expect(forced.stdout).toContain("Successfully installed tinypkg-1.0");
    expect(existsSync(join(dir, "left-over"))).toBe(false);
  });
});
