// Ctrl+C and kill -9 of `offload run` in each phase on the gcp, lambda and command providers, each
// ending with zero live machines by the fake cloud's own count (after the next offload command, for the
// kill -9 cases). To keep the suite's time sane, the phases where the providers' code differs (the create
// call, the wait for running with an address, the teardown) run for every provider, and the phases they
// share run once: setup here (on gcp); ssh, sync, run and download on OpenStack in run.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp, noGcpFaults } from "./fake/gcp.js";
import { FakeLambda, noLambdaFaults } from "./fake/lambda.js";
import { ledgerEntries, ledgerFiles } from "./fake/run-env.js";
import {
  type CloudTarget,
  cloudRunEnv,
  cloudYaml,
  commandTarget,
  gcpTarget,
  lambdaTarget,
} from "./fake/targets.js";

type Phase = "create" | "wait" | "setup" | "teardown";
type Kind = "gcp" | "lambda" | "command";

/** The phases every provider goes through on its own code, and the shared one run on gcp alone. */
const MATRIX: [Kind, Phase][] = [
  ...(["gcp", "lambda", "command"] as const).flatMap((kind) =>
    (["create", "wait", "teardown"] as const).map((phase): [Kind, Phase] => [kind, phase]),
  ),
  ["gcp", "setup"],
];

/**
 * A Ctrl+C before the job was launched ends as interrupted (130); one during the teardown of a run that
 * succeeded leaves the exit code the job's while the deletion goes on.
 */
const EXPECTED_CTRL_C: Record<Phase, number> = { create: 130, wait: 130, setup: 130, teardown: 0 };

describeWithHosts(
  1,
  "Ctrl+C and kill -9 of offload run in each phase, on gcp, lambda and command targets",
  () => {
    let gcp: FakeGcp;
    let lambda: FakeLambda;
    let stateDir = "";
    let project: TempProject | undefined;

    beforeAll(async () => {
      // Slow boots: a signal lands while the machine is not running yet.
      gcp = await new FakeGcp(["europe-west1-b"], 1_500).start();
      lambda = await new FakeLambda(1_500).start();
    });
    afterAll(async () => {
      await gcp?.close();
      await lambda?.close();
    });
    afterEach(async () => {
      await project?.remove();
      project = undefined;
      gcp.faults = noGcpFaults();
      lambda.faults = noLambdaFaults();
      rmSync(stateDir, { recursive: true, force: true });
    });

    /** The target's lines and the user's environment for it; the command one drives the fake gcp. */
    function targetOf(kind: Kind): CloudTarget {
      if (kind === "gcp") return gcpTarget(gcp);
      if (kind === "lambda") return lambdaTarget(lambda);
      return commandTarget(gcp);
    }

    const cloudOf = (kind: Kind) => (kind === "lambda" ? lambda : gcp);

    /** Scripts the fake so `phase` lasts long enough to be signalled in; returns when it has begun. */
    function stage(
      kind: Kind,
      phase: Phase,
      env: Record<string, string>,
    ): { text?: string; made?: () => boolean } {
      if (phase === "create") {
        // The cloud makes the machine at once and answers its id seconds later.
        if (kind === "gcp") gcp.faults.insertAnswerDelayMs = 3_000;
        if (kind === "lambda") lambda.faults.launchAnswerDelayMs = 3_000;
        if (kind === "command") env.CREATE_PAUSE = "3";
        return { made: () => cloudOf(kind).instances.size > 0 };
      }
      if (phase === "teardown") {
        // The first delete fails: the teardown is still under way when the signal lands.
        if (kind === "lambda") lambda.faults.failTerminates = 1;
        else gcp.faults.failDeletes = 1;
        return { text: "machine: deleting" };
      }
      return { text: phase === "wait" ? "to run with an address" : "setting-up-now" };
    }

    /** Runs a tiny job on `kind`'s target and sends `signal` to offload once `phase` has begun. */
    async function signalIn(
      kind: Kind,
      phase: Phase,
      signal: NodeJS.Signals,
      extra: string[] = [],
    ) {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject();
      const { lines, env: targetEnv } = targetOf(kind);
      // On stdout: what setup prints is shown while it runs, so the signal lands in the setup.
      const setup = phase === "setup" ? ['setup: ["echo setting-up-now; sleep 30"]'] : [];
      await project.write(
        "offload.yaml",
        cloudYaml([...lines, "price_per_hour: 0.5", ...setup, ...extra]),
      );
      const env = cloudRunEnv(project.home, stateDir, targetEnv);
      const begun = stage(kind, phase, env);
      let pid = 0;
      let sent = false;
      let seen = "";
      const send = () => {
        if (sent || pid === 0) return;
        sent = true;
        process.kill(pid, signal);
      };
      const running = runCli(["run", "--host", "box", "--", "echo", "ran"], {
        cwd: project.dir,
        env,
        timeoutMs: 170_000,
        onSpawn: (p) => {
          pid = p;
        },
        onStderr: (text) => {
          seen += text;
          if (begun.text !== undefined && seen.includes(begun.text)) send();
        },
      });
      let ended = false;
      void running.then(() => {
        ended = true;
      });
      // The create phase shows on the cloud's side: the machine exists, offload has not heard its id.
      while (begun.made !== undefined && !sent && !ended) {
        if (begun.made()) send();
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const result = await running;
      expect(sent, `${phase} never began:\n${result.stderr}`).toBe(true);
      const next = () => runCli(["ps"], { cwd: project?.dir ?? tmpdir(), env, timeoutMs: 170_000 });
      return { result, next, env };
    }

    // A kept machine has no watcher until its lease arms it: one left before that would run for ever,
    // unused (it was kept as such, and no run reused it without an address).
    it("gcp, keep: true: kill -9 while waiting for a running machine leaves it owed; the next command deletes it", async () => {
      const { result, next } = await signalIn("gcp", "wait", "SIGKILL", ["keep: true"]);
      expect(result.code).toBe(137);
      expect(await gcp.liveMachines()).toBe(1);
      expect(ledgerFiles(stateDir)).toHaveLength(1);
      const settled = await next();
      expect(settled.code, settled.stderr).toBe(0);
      expect(settled.stderr).toMatch(/deleted machine offload-[0-9a-f]+, left behind/);
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("gcp, keep: true: kill -9 in the setup, its watcher armed, leaves the machine kept for the next run", async () => {
      const { result, next, env } = await signalIn("gcp", "setup", "SIGKILL", ["keep: true"]);
      expect(result.code).toBe(137);
      const [entry] = ledgerEntries(stateDir);
      expect(entry).toMatchObject({ keep: true, state: "created" });
      expect(entry).not.toHaveProperty("unarmed");
      const settled = await next();
      expect(settled.code, settled.stderr).toBe(0);
      expect(await gcp.liveMachines()).toBe(1);
      const down = await runCli(["down", "--all"], {
        cwd: project?.dir ?? tmpdir(),
        env,
        timeoutMs: 170_000,
      });
      expect(down.code, down.stderr).toBe(0);
      expect(await gcp.liveMachines()).toBe(0);
    });

    for (const [kind, phase] of MATRIX) {
      it(`${kind}: Ctrl+C while ${phase === "wait" ? "waiting for a running machine" : phase} ends with the machine deleted`, async () => {
        const { result } = await signalIn(kind, phase, "SIGINT");
        expect(result.stderr).toContain("interrupted: deleting the machine");
        expect(result.stderr).toMatch(
          /machine: offload-[0-9a-f]+ gone|offload deleted the machine/,
        );
        expect(result.code, result.stderr).toBe(EXPECTED_CTRL_C[phase]);
        expect(await cloudOf(kind).liveMachines()).toBe(0);
        expect(ledgerFiles(stateDir)).toEqual([]);
      });

      it(`${kind}: kill -9 while ${phase === "wait" ? "waiting for a running machine" : phase} leaves the machine owed; the next command deletes it`, async () => {
        const { result, next } = await signalIn(kind, phase, "SIGKILL");
        expect(result.code).toBe(137);
        expect(await cloudOf(kind).liveMachines()).toBe(1);
        expect(ledgerFiles(stateDir)).toHaveLength(1);
        const settled = await next();
        expect(settled.code).toBe(0);
        expect(settled.stderr).toMatch(/deleted machine offload-[0-9a-f]+, left behind/);
        expect(await cloudOf(kind).liveMachines()).toBe(0);
        expect(ledgerFiles(stateDir)).toEqual([]);
      });
    }
  },
  { netns: true },
);
