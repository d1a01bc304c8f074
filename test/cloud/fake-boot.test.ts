// A fake cloud that cannot boot a machine (here: no free slot) says so at once, as its cloud says a
// failed create: a run fails with the reason, instead of waiting 15 minutes for a machine left
// starting that a test then counts as alive after its timeout.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp } from "./fake/gcp.js";
import { FakeLambda } from "./fake/lambda.js";
import {
  type CloudTarget,
  cloudRunEnv,
  cloudYaml,
  gcpTarget,
  lambdaTarget,
} from "./fake/targets.js";

describeWithHosts(
  1,
  "a fake cloud with no free slot",
  () => {
    let cloudDir: string;
    let gcp: FakeGcp;
    let lambda: FakeLambda;
    const before = process.env.OFFLOAD_FAKE_CLOUD_DIR;

    beforeAll(async () => {
      // Every slot taken by this (live) process, in a state dir of this test's own.
      cloudDir = mkdtempSync(join(tmpdir(), "offload-full-cloud-"));
      for (let k = 100; k <= 199; k++) {
        mkdirSync(join(cloudDir, "slots", String(k)), { recursive: true });
        writeFileSync(join(cloudDir, "slots", String(k), "owner"), String(process.pid));
      }
      process.env.OFFLOAD_FAKE_CLOUD_DIR = cloudDir;
      gcp = await new FakeGcp().start();
      lambda = await new FakeLambda().start();
      if (before === undefined) delete process.env.OFFLOAD_FAKE_CLOUD_DIR;
      else process.env.OFFLOAD_FAKE_CLOUD_DIR = before;
    });
    afterAll(async () => {
      await gcp?.close();
      await lambda?.close();
      rmSync(cloudDir, { recursive: true, force: true });
    });

    async function runOn(target: CloudTarget, project: TempProject) {
      const stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      await project.write("offload.yaml", cloudYaml([...target.lines, "price_per_hour: 0.02"]));
      try {
        // Bounded below the 15 minutes a run waits for a machine to start: a wait is killed (137).
        return await runCli(["run", "--host", "box", "--", "true"], {
          cwd: project.dir,
          env: cloudRunEnv(project.home, stateDir, target.env),
          timeoutMs: 90_000,
        });
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    }

    it("gcp: the create fails with the reason, and no machine is left", async () => {
      const project = await makeProject();
      const result = await runOn(gcpTarget(gcp), project).finally(() => project.remove());
      expect(result.code, result.stderr).not.toBe(137);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("no free slot");
      expect(await gcp.liveMachines()).toBe(0);
    });

    it("lambda: the instance fails, and is deleted", async () => {
      const project = await makeProject();
      const result = await runOn(lambdaTarget(lambda), project).finally(() => project.remove());
      expect(result.code, result.stderr).not.toBe(137);
      expect(result.code).not.toBe(0);
      expect(await lambda.liveMachines()).toBe(0);
    });
  },
  { netns: true },
);
