// kill -9 of `offload up` in each phase on the fake Compute Engine (its machines are test-bed hosts): the
// create call sent, the machine booting, its setup running. Then `offload machines` shows the machine, the
// next `offload up` settles it (deleted if nothing watches it, reused if its watcher is armed), and
// `offload down --all` ends with zero live machines by the fake cloud's own count and an empty ledger.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type CliOptions, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp, noGcpFaults } from "./fake/gcp.js";
import { ledgerFiles } from "./fake/run-env.js";
import { cloudRunEnv, cloudYaml, gcpTarget } from "./fake/targets.js";

type Phase = "create" | "boot" | "setup";

describeWithHosts(
  1,
  "kill -9 of offload up in each phase",
  () => {
    let gcp: FakeGcp;
    let stateDir = "";
    let project: TempProject | undefined;

    beforeAll(async () => {
      // Slow boots: the kill lands while the machine is not running yet.
      gcp = await new FakeGcp(["europe-west1-b"], 1_500).start();
    });
    afterAll(async () => {
      await gcp?.close();
    });
    afterEach(async () => {
      await project?.remove();
      project = undefined;
      gcp.faults = noGcpFaults();
      rmSync(stateDir, { recursive: true, force: true });
    });

    /** A project with the target `box` and the user's environment for it. */
    async function makeBox() {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject();
      const { lines, env: targetEnv } = gcpTarget(gcp);
      // The first setup sleeps (the kill lands in it); the next one on the same machine does not.
      const seen = `/tmp/offload-up-seen-${process.pid}-${Date.now()}`;
      await project.write(
        "offload.yaml",
        cloudYaml([
          ...lines,
          "price_per_hour: 0.5",
          // Printed while it runs, so the kill lands in the setup; quick on the next `up`.
          `setup: ["echo setting-up-now; [ -e ${seen} ] || { touch ${seen}; sleep 30; }"]`,
        ]),
      );
      const env = cloudRunEnv(project.home, stateDir, targetEnv);
      const offload = (args: string[], options: Partial<CliOptions> = {}) =>
        runCli(args, { cwd: project?.dir ?? tmpdir(), env, timeoutMs: 170_000, ...options });
      return { offload };
    }

    async function killUpIn(phase: Phase) {
      const { offload } = await makeBox();
      // The cloud makes the machine at once and answers its id seconds later.
      if (phase === "create") gcp.faults.insertAnswerDelayMs = 3_000;
      const cue = phase === "boot" ? "to run with an address" : "setting-up-now";
      let pid = 0;
      let killed = false;
      let said = "";
      const kill = () => {
        if (killed || pid === 0) return;
        killed = true;
        process.kill(pid, "SIGKILL");
      };
      const up = offload(["up", "box"], {
        onSpawn: (p) => {
          pid = p;
        },
        onStderr: (text) => {
          said += text;
          if (phase !== "create" && said.includes(cue)) kill();
        },
      });
      let ended = false;
      void up.then(() => {
        ended = true;
      });
      while (phase === "create" && !killed && !ended) {
        if (gcp.instances.size > 0) kill();
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const result = await up;
      expect(killed, `${phase} never began:\n${result.stderr}`).toBe(true);
      expect(result.code).toBe(137);
      return { offload };
    }

    for (const phase of ["create", "boot"] as const) {
      it(`while ${phase === "create" ? "the create call is answered" : "the machine boots"}: machines shows it, the next up deletes it and makes a fresh one`, async () => {
        const { offload } = await killUpIn(phase);
        expect(await gcp.liveMachines()).toBe(1);
        const [file] = ledgerFiles(stateDir);
        const tag = file?.replace(/\.json$/, "") ?? "";
        const listed = await offload(["machines"]);
        expect(listed.code, listed.stderr).toBe(0);
        const row = listed.stdout.split("\n").find((line) => line.startsWith(tag)) ?? "";
        expect(row).not.toContain("in use");
        expect(row).toMatch(/box$/);
        const next = await offload(["up", "box"]);
        expect(next.stderr).toContain(`deleted machine ${tag}, left behind`);
        expect(next.code, next.stderr).toBe(0);
        expect(next.stdout).not.toContain(tag);
        expect(await gcp.liveMachines()).toBe(1);
        expect((await offload(["down", "--all"])).code).toBe(0);
        expect(await gcp.liveMachines()).toBe(0);
        expect(ledgerFiles(stateDir)).toEqual([]);
      });
    }

    it("in the setup, its watcher armed: the machine stays kept and the next up finishes its setup", async () => {
      const { offload } = await killUpIn("setup");
      expect(await gcp.liveMachines()).toBe(1);
      const [file] = ledgerFiles(stateDir);
      const tag = file?.replace(/\.json$/, "") ?? "";
      const listed = await offload(["machines"]);
      expect(listed.stdout).toMatch(new RegExp(`${tag}\\s+gcp\\s+\\S+\\s+kept, running`));
      const next = await offload(["up", "box"]);
      expect(next.stderr).toContain(`reusing the kept machine ${tag}`);
      // Its setup never finished: it runs again.
      expect(next.stderr).toContain("setting-up-now");
      expect(next.code, next.stderr).toBe(0);
      expect(next.stdout.split(" ")[0]).toBe(tag);
      expect((await offload(["down", "--all"])).code).toBe(0);
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("kill -9 of offload down mid-delete: machines shows the teardown owed, the next command finishes it", async () => {
      const { offload } = await makeBox();
      const up = await offload(["up", "box"]);
      expect(up.code, up.stderr).toBe(0);
      const [tag] = up.stdout.trim().split(" ");
      // Deletes fail until the kill: the teardown is under way, waiting to ask again, when it lands.
      gcp.faults.failDeletes = 1_000;
      let pid = 0;
      let said = "";
      const down = await offload(["down", tag ?? ""], {
        onSpawn: (p) => {
          pid = p;
        },
        onStderr: (text) => {
          said += text;
          if (said.includes("the cloud to answer again")) process.kill(pid, "SIGKILL");
        },
      });
      expect(down.code, down.stderr).toBe(137);
      gcp.faults.failDeletes = 0;
      expect(await gcp.liveMachines()).toBe(1);
      const listed = await offload(["machines"]);
      expect(listed.stdout).toMatch(new RegExp(`${tag}\\s+gcp\\s+\\S+\\s+teardown owed`));
      const next = await offload(["ps"]);
      expect(next.stderr).toContain(`deleted machine ${tag}, left behind`);
      expect(next.code, next.stderr).toBe(0);
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });
  },
  { netns: true },
);
