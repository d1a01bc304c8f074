import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import {
  type EnvBed,
  HAS_VENV,
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

/** Resolves once `text` has appeared on a run's stderr. */
function watchStderr(text: string): { onStderr: (chunk: Buffer) => void; seen: Promise<void> } {
  let buffered = "";
  let resolve: () => void = () => {};
  const seen = new Promise<void>((done) => {
    resolve = done;
  });
  return {
    onStderr: (chunk) => {
      buffered += chunk.toString("utf8");
      if (buffered.includes(text)) resolve();
    },
    seen,
  };
}

describe.skipIf(!HAS_VENV)("two builds of the same env at once", () => {
  it("build once: one run builds while the other waits, then reuses the finished env", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==1.0\n");
    const plan = planFor(bed, {});
    // Learn the env's dir (the host decides its name), then hold its lock as a live build would, so
    // both runs are certainly waiting when it is released: the race is then real, not left to chance.
    const probe = await runEnvScript(bed, { ...plan, requirements: [] });
    if (probe.result?.status !== "built") throw new Error(probe.stdout);
    const { dir } = probe.result;
    rmSync(dir, { recursive: true });
    mkdirSync(`${dir}.lock`);
    writeFileSync(
      `${dir}.lock/owner`,
      `${Math.floor(Date.now() / 1000)} ${hostname()} ${process.pid}\n`,
    );

    const watchA = watchStderr("offload-env waiting");
    const watchB = watchStderr("offload-env waiting");
    const a = runEnvScript(bed, plan, watchA.onStderr);
    const b = runEnvScript(bed, plan, watchB.onStderr);
    await Promise.all([watchA.seen, watchB.seen]);
    rmSync(`${dir}.lock`, { recursive: true });
    const runs = await Promise.all([a, b]);

    for (const run of runs) {
      expect(run.code, run.stdout).toBe(0);
      expect(run.result).toMatchObject({
        dir,
        waitedFor: expect.stringContaining(String(process.pid)),
      });
    }
    const statuses = runs.map((run) => run.result?.status).sort();
    expect(statuses).toEqual(["built", "reused"]);
    const installs = runs.map((run) => run.stdout.split("Successfully installed").length - 1);
    expect(installs.sort()).toEqual([0, 1]);
    expect(runInEnv(`${dir}/bin`, "import tinypkg; print(tinypkg.VERSION)").out).toBe("1.0");
  });

  it("takes over the lock of a build whose process is gone", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==2.0\n");
    const plan = planFor(bed, { key: "fedcba9876543210" });
    const probe = await runEnvScript(bed, { ...plan, requirements: [] });
    if (probe.result?.status !== "built") throw new Error(probe.stdout);
    const { dir } = probe.result;
    rmSync(`${dir}/.offload-ready`);
    // A pid that is certainly not running: above the kernel's pid_max.
    mkdirSync(`${dir}.lock`);
    writeFileSync(`${dir}.lock/owner`, `${Math.floor(Date.now() / 1000)} ${hostname()} 99999999\n`);

    const run = await runEnvScript(bed, plan);
    expect(run.code, run.stdout).toBe(0);
    expect(run.result?.status).toBe("built");
    expect(run.stdout).toContain("took over the lock of a build that is gone");
    expect(runInEnv(`${dir}/bin`, "import tinypkg; print(tinypkg.VERSION)").out).toBe("2.0");
  });

  it("gives up waiting on a live build after the wait limit, touching nothing", async () => {
    writeWorkspaceFile(bed, "requirements.txt", "tinypkg==1.0\n");
    const plan = planFor(bed, { key: "00000000000000ff", lockWaitSeconds: 0 });
    const probe = await runEnvScript(bed, { ...plan, requirements: [] });
    if (probe.result?.status !== "built") throw new Error(probe.stdout);
    const { dir } = probe.result;
    rmSync(`${dir}/.offload-ready`);
    mkdirSync(`${dir}.lock`);
    const owner = `${Math.floor(Date.now() / 1000)} ${hostname()} ${process.pid}\n`;
    writeFileSync(`${dir}.lock/owner`, owner);

    const run = await runEnvScript(bed, plan);
    expect(run.code).toBe(75);
    expect(run.result).toMatchObject({ status: "failed", code: 75 });
    expect(run.stdout).toContain("gave up");
    expect(readFileSync(`${dir}.lock/owner`, "utf8")).toBe(owner);
  });
});
