// `offload run` on `cloud: gcp`, `cloud: lambda` and `cloud: command` targets, each against its fake
// cloud whose machines are real test-bed hosts: the same path as OpenStack (lease, dead-man switch,
// outputs home, the machine deleted), each a real PyTorch training (Debian's torch on CPU) where the
// machine has torch, else a shell job that writes the same output.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { hasTorch } from "../support/torch.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp } from "./fake/gcp.js";
import { FakeLambda } from "./fake/lambda.js";
import {
  type CloudTarget,
  cloudRunEnv,
  cloudYaml,
  commandTarget,
  gcpTarget,
  lambdaTarget,
} from "./fake/targets.js";

const TORCH = hasTorch();
if (!TORCH)
  process.stderr.write("[cloud] python3-torch missing: a shell job stands in for training\n");
const JOB = TORCH
  ? ["/usr/bin/python3", "train.py", "--epochs", "2"]
  : [
      "sh",
      "-c",
      "mkdir -p outputs && echo '{\"loss\": 0.5}' > outputs/metrics.json && echo Epoch 2/2",
    ];

const DOWNLOAD = ["download:", "  - outputs/metrics.json"];

/** A fixed price: gcp and command have no live one. */
const priced = (target: CloudTarget): CloudTarget => ({
  ...target,
  lines: [...target.lines, "price_per_hour: 0.02"],
});

describeWithHosts(
  1,
  "offload run on gcp, lambda and command targets",
  () => {
    let gcp: FakeGcp;
    let lambda: FakeLambda;
    let stateDir: string;
    let project: TempProject | undefined;
    /** The forward test's `offload run`, while it has not ended. */
    let leftRunning: { pid: number; done: Promise<unknown> } | undefined;

    beforeAll(async () => {
      gcp = await new FakeGcp().start();
      lambda = await new FakeLambda().start();
    });
    afterAll(async () => {
      await gcp?.close();
      await lambda?.close();
    });
    afterEach(async () => {
      // A run the test gave up on is stopped (SIGTERM: the job stops, its machine is deleted) before
      // the next test, which would otherwise find that machine still up (seen in CI: the forward test).
      if (leftRunning !== undefined) {
        try {
          process.kill(leftRunning.pid, "SIGTERM");
        } catch {
          // It ended meanwhile.
        }
        await leftRunning.done;
        leftRunning = undefined;
      }
      await project?.remove();
      project = undefined;
      rmSync(stateDir, { recursive: true, force: true });
    });

    async function runOn({ lines: target, env }: CloudTarget) {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject(TORCH ? "pytorch" : undefined);
      await project.write("offload.yaml", cloudYaml(target, { top: DOWNLOAD }));
      const result = await runCli(["run", "--host", "box", "--", ...JOB], {
        cwd: project.dir,
        env: cloudRunEnv(project.home, stateDir, env),
        timeoutMs: 170_000,
      });
      const [id] = await project.runIds();
      const record = id === undefined ? undefined : await project.record(id);
      const ledger = readdirSync(join(stateDir, "machines")).filter((f) => f.endsWith(".json"));
      return { result, record, ledger };
    }

    it("gcp: runs on a Compute Engine machine it makes and deletes it", async () => {
      const { result, record, ledger } = await runOn(priced(gcpTarget(gcp)));
      expect(result.stderr).toContain("finished (exit 0)");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Epoch 2\/2/);
      expect(record).toMatchObject({
        status: "succeeded",
        machine: { provider: "gcp", flavor: "e2-small" },
      });
      expect(record?.artifacts).toEqual(["outputs/metrics.json"]);
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledger).toEqual([]);
    });

    it("lambda: priced live, the first host key accepted and said, the machine deleted", async () => {
      const { result, record, ledger } = await runOn(lambdaTarget(lambda));
      expect(result.stderr).toContain("finished (exit 0)");
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("$0.75/h (lambda live price)");
      expect(result.stderr).toMatch(/accepted the host key ssh-ed25519 .* on first use/);
      expect(result.stdout).toMatch(/Epoch 2\/2/);
      expect(record?.artifacts).toEqual(["outputs/metrics.json"]);
      expect(record).toMatchObject({
        status: "succeeded",
        machine: { provider: "lambda", usdPerHour: 0.75 },
      });
      expect(await lambda.liveMachines()).toBe(0);
      expect(ledger).toEqual([]);
    });

    it("gcp: forward: reaches a server the job started on the machine's own loopback", async () => {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject();
      const port = 23000 + (process.pid % 1000);
      const word = `machine-served-${process.pid}`;
      await project.write("hello.txt", `${word}\n`);
      const target = priced(gcpTarget(gcp));
      await project.write(
        "offload.yaml",
        cloudYaml(target.lines, { top: ["forward:", `  - ${port}`, ...DOWNLOAD] }),
      );
      // Serves one request on the machine's loopback (unreachable from here but by the forward), then
      // ends; also when no request (or a silent connection) came for 60 s: a test that never reaches it
      // fails with the run's stderr, not with a job that waits for ever and keeps its machine up.
      const serve = [
        "import http.server as h",
        "h.SimpleHTTPRequestHandler.timeout = 60",
        `s = h.HTTPServer(("127.0.0.1", ${port}), h.SimpleHTTPRequestHandler)`,
        "s.timeout = 60",
        "s.handle_request()",
      ].join("; ");
      let errors = "";
      let pid = 0;
      const done = runCli(["run", "--host", "box", "--", "python3", "-c", serve], {
        cwd: project.dir,
        env: cloudRunEnv(project.home, stateDir, target.env),
        timeoutMs: 170_000,
        onSpawn: (spawned) => {
          pid = spawned;
        },
        onStderr: (text) => {
          errors += text;
        },
      });
      leftRunning = { pid, done };
      const notice = /forwarding http:\/\/127\.0\.0\.1:([0-9]+)\/ -> (\S+):([0-9]+)/;
      // A run that ends without the notice shows its stderr below, not a test timeout (seen once in CI).
      let ended = false;
      void done.finally(() => {
        ended = true;
        leftRunning = undefined;
      });
      for (let i = 0; i < 900 && !ended && !notice.test(errors); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const match = notice.exec(errors);
      expect(match?.slice(2), errors).toEqual(["box", String(port)]);
      // The server starts with the job: the forward may be there before it listens.
      let text = "";
      for (let i = 0; i < 300 && text === "" && !ended; i++) {
        text = await fetch(`http://127.0.0.1:${match?.[1]}/hello.txt`).then(
          (r) => (r.ok ? r.text() : ""),
          () => "",
        );
        if (text === "") await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(text.trim()).toBe(word);
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expect(await gcp.liveMachines()).toBe(0);
    });

    it("command: runs on a machine made by the user's commands (curl + jq on Compute Engine's API)", async () => {
      const { result, record, ledger } = await runOn(priced(commandTarget(gcp)));
      expect(result.stderr).toContain("finished (exit 0)");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Epoch 2\/2/);
      expect(record).toMatchObject({ status: "succeeded", machine: { provider: "command" } });
      expect(record?.artifacts).toEqual(["outputs/metrics.json"]);
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledger).toEqual([]);
    });
  },
  { netns: true },
);
