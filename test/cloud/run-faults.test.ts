// The cloud's faults while `offload run` makes its machine, each ending with zero live machines by the
// fake cloud's own count: a create answered 500 that made the machine anyway (found by its tag), a
// build that never ends (`create_timeout`), an sshd that never answers (`ssh_timeout`), and offload
// killed -9 while a GCP machine is being made (the next command settles the ledger).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type CliOptions, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp } from "./fake/gcp.js";
import { noFaults } from "./fake/nova.js";
import { FakeOpenStack } from "./fake/openstack.js";
import { ledgerEntries, ledgerFiles, openStackEnv } from "./fake/run-env.js";
import { cloudRunEnv, cloudYaml, gcpTarget } from "./fake/targets.js";

const OPENSTACK = [
  "cloud: openstack",
  "flavor: gpu.h100.1",
  "image: Ubuntu-22.04",
  "network: auto",
  "region: [RegionOne]",
  "price_per_hour: 2.49",
];

describeWithHosts(
  1,
  "offload run through the cloud's faults",
  () => {
    let cloud: FakeOpenStack;
    let gcp: FakeGcp;
    let stateDir = "";
    let project: TempProject | undefined;

    beforeAll(async () => {
      cloud = await new FakeOpenStack({ buildDelayMs: 300 }).start();
      // Slow boots: a kill -9 lands while the machine is being made.
      gcp = await new FakeGcp(["europe-west1-b"], 2_000).start();
    });
    afterAll(async () => {
      await cloud?.close();
      await gcp?.close();
    });
    afterEach(async () => {
      await project?.remove();
      project = undefined;
      cloud.nova.faults = noFaults();
      rmSync(stateDir, { recursive: true, force: true });
    });

    async function newProject(target: string[]): Promise<TempProject> {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject();
      await project.write("offload.yaml", cloudYaml(target));
      return project;
    }
    const offload = (args: string[], options: Partial<CliOptions> = {}) =>
      runCli(args, {
        cwd: project?.dir ?? tmpdir(),
        env: openStackEnv(cloud, project?.home ?? tmpdir(), stateDir),
        timeoutMs: 170_000,
        ...options,
      });
    const creates = (since: number) =>
      cloud.requests.filter(
        (r) => r.at >= since && r.method === "POST" && r.path.endsWith("/servers"),
      );

    it("a create answered 500 that made the machine anyway: found by its tag, used, then deleted", async () => {
      await newProject(OPENSTACK);
      cloud.nova.faults.createsAnswer500 = 1;
      const since = Date.now();
      const result = await offload(["run", "--host", "box", "--", "echo", "ran"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("ran");
      // The one POST was answered 500; the list by tag that followed found the machine it made, so
      // no second one was asked for.
      expect(creates(since).map((r) => r.status)).toEqual([500]);
      const post = creates(since)[0]?.at ?? 0;
      expect(
        cloud.requests.some(
          (r) => r.at >= post && r.method === "GET" && r.path.endsWith("/servers/detail"),
        ),
      ).toBe(true);
      const [id = ""] = (await project?.runIds()) ?? [];
      const tag = (await project?.record(id))?.machine?.tag ?? "";
      expect(tag).toMatch(/^offload-[0-9a-f]+$/);
      expect(result.stderr).toContain(`machine: ${tag} gone`);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("a build that never ends: create_timeout gives up and deletes the machine", async () => {
      await newProject([...OPENSTACK, "create_timeout: 3s"]);
      cloud.nova.faults.stuckInBuild = true;
      const result = await offload(["run", "--host", "box", "--", "echo", "ran"]);
      expect(result.stderr).toMatch(/the machine \S+ was still BUILD after the wait/);
      expect(result.stderr).toContain("create_timeout");
      expect(result.code).toBe(200);
      expect(result.stdout).not.toContain("ran");
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("an sshd that never answers: ssh_timeout gives up and deletes the machine", async () => {
      await newProject([...OPENSTACK, "ssh_timeout: 3s"]);
      cloud.nova.faults.sshdNeverUp = true;
      const result = await offload(["run", "--host", "box", "--", "echo", "ran"]);
      expect(result.stderr).toMatch(/did not answer ssh in time/);
      expect(result.code).toBe(200);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    /**
     * Ctrl+C once `first` shows on stderr, again once offload says it is deleting (each delete fails, so
     * it still is): offload leaves at once, says the deletion is owed, and the next command settles it.
     */
    async function leaveTwice(first: string, command: string[]) {
      cloud.nova.faults.failDeletes = 1_000;
      let pid = 0;
      let sent = 0;
      let seen = "";
      const result = await offload(["run", "--host", "box", "--", ...command], {
        onSpawn: (p) => {
          pid = p;
        },
        onStderr: (text) => {
          seen += text;
          if (sent === 0 && seen.includes(first)) {
            sent = 1;
            process.kill(pid, "SIGINT");
          } else if (sent === 1 && seen.includes("Ctrl+C again leaves it")) {
            sent = 2;
            process.kill(pid, "SIGINT");
          }
        },
      });
      expect(sent, result.stderr).toBe(2);
      expect(result.code, result.stderr).toBe(130);
      const [entry] = ledgerEntries(stateDir);
      expect(entry).toMatchObject({ state: "teardown-owed" });
      expect(result.stderr).toContain(
        `machine ${entry?.tag} is left running: the next offload command deletes it`,
      );
      expect(await cloud.liveMachines()).toBe(1);
      cloud.nova.faults = noFaults();
      const next = await offload(["ps"]);
      expect(next.code).toBe(0);
      expect(next.stderr).toContain(`deleted machine ${entry?.tag}, left behind`);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    }

    it("a second Ctrl+C while the machine is made leaves its deletion owed; the next command does it", async () => {
      await newProject(OPENSTACK);
      await leaveTwice("to run with an address", ["echo", "ran"]);
    });

    it("a second Ctrl+C while the machine is deleted leaves its deletion owed; the next command does it", async () => {
      await newProject(OPENSTACK);
      await leaveTwice("machine: deleting", ["echo", "ran"]);
    });

    it("gcp: kill -9 while the machine is being made leaves it in the ledger; the next command deletes it", async () => {
      const target = gcpTarget(gcp);
      await newProject([...target.lines, "price_per_hour: 2.49"]);
      const env = cloudRunEnv(project?.home ?? tmpdir(), stateDir, target.env);
      let pid = 0;
      let killed = false;
      const result = await offload(["run", "--host", "box", "--", "echo", "ran"], {
        env,
        onSpawn: (p) => {
          pid = p;
        },
        onStderr: (text) => {
          // The create was accepted: the machine exists and is not running yet.
          if (killed || !text.includes("to run with an address")) return;
          killed = true;
          process.kill(pid, "SIGKILL");
        },
      });
      expect(killed, result.stderr).toBe(true);
      expect(result.code).toBe(137);
      expect(await gcp.liveMachines()).toBe(1);
      const [entry] = ledgerEntries(stateDir);
      expect(entry).toMatchObject({ state: "created" });
      const next = await offload(["ps"], { env });
      expect(next.code).toBe(0);
      expect(next.stderr).toContain(`deleted machine ${entry?.tag}, left behind`);
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });
  },
  { netns: true },
);
