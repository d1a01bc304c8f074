// A cloud machine lost mid-run (the cloud takes it away, as a preemption does): the retry gives it back
// (deleted, the ledger settled), makes a fresh machine, syncs again, puts the last checkpoint back (from
// home, or from the bucket) and the real PyTorch training resumes there to the same end as a run never
// interrupted. The fake OpenStack's machines are real test-bed hosts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createBucket, type S3Server, startS3Server, whyNoS3Server } from "../storage/s3-server.js";
import { type CliResult, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { hasTorch } from "../support/torch.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeOpenStack } from "./fake/openstack.js";
import { ledgerEntries, ledgerFiles, openStackEnv } from "./fake/run-env.js";
import { openStackRetryYaml } from "./fake/targets.js";

const TORCH = hasTorch();
const BRIDGE = "10.200.1.1";
const BUCKET = "offload-cloud-retry";
const noServer = whyNoS3Server();
if (noServer) process.stderr.write(`[cloud retry] skipping the bucket restore test: ${noServer}\n`);
const finalLine = (log: string) => log.split("\n").find((line) => line.startsWith("final epochs="));
const EPOCHS = "8";

describeWithHosts(
  1,
  "a cloud run retried on a fresh machine (fake OpenStack)",
  () => {
    let cloud: FakeOpenStack;
    let stateDir = "";
    let project: TempProject | undefined;
    let expected: string | undefined;

    beforeAll(async () => {
      cloud = await new FakeOpenStack({ buildDelayMs: 500 }).start();
      if (!TORCH) return;
      // The same training never interrupted, here: deterministic, so its last line is the reference.
      const scratch = mkdtempSync(join(tmpdir(), "offload-whole-"));
      const script = join(import.meta.dirname, "../../examples/resume/train.py");
      const out = execFileSync("/usr/bin/python3", [script], {
        cwd: scratch,
        env: { ...process.env, EPOCHS },
        encoding: "utf8",
      });
      rmSync(scratch, { recursive: true, force: true });
      expected = finalLine(out);
    }, 120_000);
    afterAll(async () => {
      await cloud?.close();
    });
    afterEach(async () => {
      await project?.remove();
      project = undefined;
      rmSync(stateDir, { recursive: true, force: true });
    });

    /**
     * Runs the training on `h100` and, once a checkpoint was taken, has the cloud delete the machine
     * under it (its processes, namespace and sshd go at once).
     */
    async function runAndLoseMachine(env: Record<string, string> = {}): Promise<CliResult> {
      const p = project;
      if (p === undefined) throw new Error("no project");
      let lost: string | undefined;
      let stdout = "";
      const result = await runCli(
        [
          "run",
          "--json",
          "--host",
          "h100",
          "-e",
          `EPOCHS=${EPOCHS}`,
          "-e",
          "EPOCH_PAUSE=4",
          "--",
          "/usr/bin/python3",
          "train.py",
        ],
        {
          cwd: p.dir,
          env: { ...openStackEnv(cloud, p.home, stateDir), ...env },
          timeoutMs: 280_000,
          onStdout: (text) => {
            stdout += text;
            if (lost !== undefined || !stdout.includes('"type":"checkpoint"')) return;
            const [entry] = ledgerEntries(stateDir);
            if (entry?.id === undefined) throw new Error("no machine in the ledger");
            lost = entry.tag;
            expect(cloud.nova.delete(entry.id).status).toBe(204);
          },
        },
      );
      expect(lost, `no checkpoint was taken:\n${result.stderr}\n${result.stdout}`).toBeDefined();
      return result;
    }

    /** What every such run ends with: two machines made, both deleted, the training resumed. */
    async function expectResumedOnFreshMachine(result: CliResult, since: number) {
      expect(result.code, result.stderr).toBe(0);
      const gone = [...result.stderr.matchAll(/machine: (offload-[0-9a-f]+) gone/g)].map(
        (m) => m[1],
      );
      expect(new Set(gone).size).toBe(2);
      const creates = cloud.requests.filter(
        (r) => r.at >= since && r.method === "POST" && r.path.endsWith("/servers"),
      );
      expect(creates).toHaveLength(2);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
      const [id = ""] = (await project?.runIds()) ?? [];
      const record = await project?.record(id);
      expect(record?.status).toBe("succeeded");
      expect(record?.attempt).toBe(2);
      expect(record?.attempts).toEqual([
        expect.objectContaining({ attempt: 1, status: "lost", log: "attempts/1.log" }),
      ]);
      expect(gone).toContain(record?.machine?.tag);
      const log = (await project?.localLog(id))?.toString() ?? "";
      const resumed = /resumed from epoch (\d+) \(attempt 2\)/.exec(log);
      expect(resumed, log).not.toBeNull();
      expect(Number(resumed?.[1])).toBeGreaterThanOrEqual(1);
      expect(log).not.toContain(`Epoch 1/${EPOCHS}`);
      expect(finalLine(log)).toBe(expected);
      // One run in the report: the attempt it ended on, and one loss a epoch across both machines.
      const report = await runCli(["report", id], { cwd: project?.dir ?? tmpdir() });
      expect(report.stdout).toContain("attempt 2  on h100");
      expect(report.stdout).toMatch(new RegExp(`loss\\s+\\S+\\s+\\S+ \\(min\\)\\s+${EPOCHS} `));
      return { id, record };
    }

    it.skipIf(!TORCH)(
      "a machine lost mid-run is deleted, a fresh one made, and the training resumes from the checkpoint brought home",
      async () => {
        stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
        project = await makeProject("resume");
        await project.write(
          "offload.yaml",
          openStackRetryYaml(["download:", "  - { path: ckpt/last.pt, every: 1s }"]),
        );
        const since = Date.now();
        const result = await runAndLoseMachine();
        const { id } = await expectResumedOnFreshMachine(result, since);
        expect(existsSync(join(project.dir, ".offload/runs", id, "artifacts/ckpt/last.pt"))).toBe(
          true,
        );
      },
      300_000,
    );

    it.skipIf(!TORCH || noServer !== undefined)(
      "with results in a bucket, the fresh machine gets the checkpoint back from the bucket",
      async () => {
        let server: S3Server | undefined;
        try {
          server = await startS3Server(BRIDGE);
          await createBucket(server, `s3://${BUCKET}/`);
          stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
          project = await makeProject("resume");
          await project.write(
            "offload.yaml",
            openStackRetryYaml([
              `results: { url: s3://${BUCKET}/runs/, every: 1s }`,
              "storage:",
              `  endpoint: ${server.endpoint}`,
              "download:",
              "  - ckpt/last.pt",
            ]),
          );
          const since = Date.now();
          const result = await runAndLoseMachine({
            AWS_ACCESS_KEY_ID: server.accessKeyId,
            AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
          });
          const { id, record } = await expectResumedOnFreshMachine(result, since);
          // Nothing came home: the checkpoint the fresh machine resumed from was the bucket's.
          expect(existsSync(join(project.dir, ".offload/runs", id, "artifacts/ckpt/last.pt"))).toBe(
            false,
          );
          const key = `runs/${id}/ckpt/last.pt`;
          expect(record?.results?.objects.map((o) => o.key)).toContain(key);
          expect(
            server.requests().filter((line) => line.startsWith(`GET /${BUCKET}/${key}`)).length,
          ).toBeGreaterThanOrEqual(1);
        } finally {
          await server?.stop();
        }
      },
      300_000,
    );
  },
  { netns: true },
);
