// kill -9 and Ctrl+C of a cloud run while its retry makes the fresh machine (the first was taken away
// mid-run): no machine may be left. Ctrl+C deletes it before offload exits (130) and records the run
// stopped; after kill -9 the next command deletes it. The fake OpenStack's machines are real test-bed hosts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeOpenStack } from "./fake/openstack.js";
import { ledgerEntries, ledgerFiles, openStackEnv } from "./fake/run-env.js";
import { openStackRetryYaml } from "./fake/targets.js";

const YAML = openStackRetryYaml();

describeWithHosts(
  1,
  "kill -9 and Ctrl+C while a cloud run's retry makes its fresh machine",
  () => {
    let cloud: FakeOpenStack;
    let stateDir = "";
    let project: TempProject | undefined;

    beforeAll(async () => {
      // A slow build: the signal lands while the fresh machine is being made.
      cloud = await new FakeOpenStack({ buildDelayMs: 3_000 }).start();
    });
    afterAll(async () => {
      await cloud?.close();
    });
    afterEach(async () => {
      await project?.remove();
      project = undefined;
      rmSync(stateDir, { recursive: true, force: true });
    });

    /** Runs a long job, takes its machine away once launched, and signals offload at the second create. */
    async function signalInRetry(signal: NodeJS.Signals) {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject();
      await project.write("offload.yaml", YAML);
      const env = openStackEnv(cloud, project.home, stateDir);
      const since = Date.now();
      const creates = () =>
        cloud.requests.filter(
          (r) => r.at >= since && r.method === "POST" && r.path.endsWith("/servers"),
        ).length;
      let pid = 0;
      let lost = false;
      let stdout = "";
      const running = runCli(["run", "--json", "--host", "h100", "--", "sleep", "300"], {
        cwd: project.dir,
        env,
        timeoutMs: 170_000,
        onSpawn: (p) => {
          pid = p;
        },
        onStdout: (text) => {
          stdout += text;
          if (lost || !stdout.includes('"type":"launched"')) return;
          const [entry] = ledgerEntries(stateDir);
          if (entry?.id === undefined) throw new Error("no machine in the ledger");
          lost = true;
          expect(cloud.nova.delete(entry.id).status).toBe(204);
        },
      });
      let ended = false;
      void running.then(() => {
        ended = true;
      });
      while (!ended && creates() < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      const second = creates() >= 2;
      if (second) process.kill(pid, signal);
      const result = await running;
      expect(second, `no second machine was asked for:\n${result.stderr}`).toBe(true);
      const next = () => runCli(["ps"], { cwd: project?.dir ?? tmpdir(), env, timeoutMs: 170_000 });
      const down = () =>
        runCli(["down", "--all"], { cwd: project?.dir ?? tmpdir(), env, timeoutMs: 170_000 });
      return { result, next, down };
    }

    it("Ctrl+C deletes the fresh machine, exits 130 and records the run stopped; nothing is left", async () => {
      const { result } = await signalInRetry("SIGINT");
      expect(result.code, result.stderr).toBe(130);
      const [id = ""] = (await project?.runIds()) ?? [];
      // The run ends stopped, its lost first attempt kept; it was left `launching` for ever.
      const record = await project?.record(id);
      expect(record?.status).toBe("stopped");
      expect(record?.finishedAt).toBeDefined();
      expect(record?.attempts).toEqual([expect.objectContaining({ attempt: 1, status: "lost" })]);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("kill -9 leaves the fresh machine owed; the next command deletes it", async () => {
      const { result, next } = await signalInRetry("SIGKILL");
      expect(result.code).toBe(137);
      const settled = await next();
      expect(settled.code, settled.stderr).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
      // The run whose offload died while its fresh machine was made ends truthful, not `launching`.
      const [id = ""] = (await project?.runIds()) ?? [];
      const record = await project?.record(id);
      expect(record?.status).toBe("lost");
      expect(record?.finishedAt).toBeDefined();
      expect(record?.error?.code).toBe("E_RUN_LOST");
      expect(record?.error?.message).toMatch(
        /offload that ran it \(pid \d+\) ended before the run did; a later command deleted its machine/,
      );
      expect(record?.attempts).toEqual([expect.objectContaining({ attempt: 1, status: "lost" })]);
      expect(settled.stdout).toMatch(new RegExp(`${id} .* lost `));
      expect(settled.stderr).toContain(`run ${id} recorded lost`);
    });

    it("kill -9, then `offload down --all` deletes the fresh machine and ends the run lost too", async () => {
      const { result, down } = await signalInRetry("SIGKILL");
      expect(result.code).toBe(137);
      const gone = await down();
      expect(gone.code, gone.stderr).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
      const [id = ""] = (await project?.runIds()) ?? [];
      expect(gone.stderr).toContain(`run ${id} recorded lost`);
      const record = await project?.record(id);
      expect(record?.status).toBe("lost");
      expect(record?.error?.code).toBe("E_RUN_LOST");
    });
  },
  { netns: true },
);
