// Object storage against a real S3 API (moto's server on the bridge address): results go from a test-bed
// host straight to the bucket with presigned URLs and come home with `offload pull`; a multipart upload cut
// by a link cut resumes; inputs are cached by ETag; no key reaches the host; URLs die with their lifetime.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRunId } from "../../src/runs/new-id.js";
import type { RunRecord } from "../../src/runs/record.js";
import { openRunStore } from "../../src/runs/store.js";
import { planInputs } from "../../src/storage/inputs-plan.js";
import type { Presign } from "../../src/storage/presign.js";
import { buildFetchInputsScript, buildUploadScript } from "../../src/storage/scripts.js";
import { parseTransferReport } from "../../src/storage/transfer-events.js";
import { planResultsUpload } from "../../src/storage/upload-plan.js";
import { formatObjectUrl, parseBucketUrl } from "../../src/storage/url.js";
import { SshTransport } from "../../src/transport/ssh.js";
import { createBucket, type S3Server, startS3Server, whyNoS3Server } from "../storage/s3-server.js";
import { runCli } from "../support/cli.js";
import {
  cutLink,
  describeWithHosts,
  execInHost,
  healLink,
  processesInHost,
  slowHostSending,
  unslowHostSending,
  useFaultHost,
} from "../testbed/index.js";

const MIB = 1024 * 1024;
const BRIDGE = "10.200.1.1";
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const noServer = whyNoS3Server();
if (noServer) process.stderr.write(`[storage] skipping the bucket tests: ${noServer}\n`);

describeWithHosts(
  1,
  "object storage",
  (info) => {
    // A fault host of its own for the whole file: one test cuts its link and caps its rate, and the
    // others share the set-up below on it.
    const fault = useFaultHost();
    let host = "";
    const bucket = parseBucketUrl("s3://offload-results/runs/");
    const remoteDir = `/root/offload-storage-${process.pid}`;
    // Files written since this mark are the ones the tests' scripts could have leaked a key into:
    // grepping all of /root and /tmp took minutes where /root held gigabytes of caches, and failed
    // (exit 2) on a file another session removed under it.
    const mark = `/root/offload-storage-${process.pid}.mark`;
    let server: S3Server;
    let presign: Presign;
    let transport: SshTransport;
    const skip = noServer !== undefined;

    beforeAll(async () => {
      host = fault.host;
      if (skip) return;
      server = await startS3Server(BRIDGE);
      await execInHost(host, ["touch", mark]);
      ({ presign } = await createBucket(server, "s3://offload-results/runs/"));
      transport = new SshTransport({ label: host, host, configFile: info.sshConfig });
      const made = await transport.exec(`mkdir -p ${remoteDir}`);
      expect(made.code).toBe(0);
    }, 60_000);

    afterAll(async () => {
      if (skip) return;
      await healLink(host).catch(() => {});
      await unslowHostSending(host).catch(() => {});
      await transport?.exec(`rm -rf ${remoteDir} ${mark} ~/.cache/offload/inputs`).catch(() => {});
      await transport?.close();
      await server?.stop();
    });

    /**
     * Waits until the S3 server has closed its side of every connection from the test-bed hosts: each
     * request sent before has then been answered, and its part is in the bucket or not. (ESTAB and
     * CLOSE-WAIT: the server may still read or answer; SYN-RECV: a request not yet read.)
     */
    async function waitUntilServerIdle(s3: S3Server): Promise<void> {
      const port = new URL(s3.endpoint).port;
      const open = () =>
        execFileSync("ss", ["-tanH"], { encoding: "utf8" })
          .split("\n")
          .map((line) => line.trim().split(/\s+/))
          .filter(
            ([state, local = "", peer = ""]) =>
              local === `${BRIDGE}:${port}` &&
              !peer.startsWith(`${BRIDGE}:`) &&
              ["ESTAB", "CLOSE-WAIT", "SYN-RECV"].includes(state ?? ""),
          );
      let left = open();
      for (let i = 0; i < 600 && left.length > 0; i++) {
        await sleep(100);
        left = open();
      }
      expect(left, "connections from the host the S3 server never finished").toEqual([]);
    }

    /** Writes `size` random bytes to `path` on the host; returns their SHA-256. */
    async function makeHostFile(path: string, size: number): Promise<string> {
      const data = randomBytes(size);
      const result = await transport.exec(
        `mkdir -p "$(dirname ${remoteDir}/${path})" && cat > ${remoteDir}/${path}`,
        { stdin: data },
      );
      expect(result.code).toBe(0);
      return sha256(data);
    }

    async function getObject(key: string): Promise<Buffer> {
      const response = await fetch(await presign({ method: "GET", key, expiresIn: 60 }));
      expect(response.status).toBe(200);
      return Buffer.from(await response.arrayBuffer());
    }

    it.skipIf(skip)(
      "puts results from the host straight into the bucket and `offload pull` brings them home, checked",
      async () => {
        const runId = createRunId();
        const small = await makeHostFile("out/metrics.json", 1234);
        const big = await makeHostFile("out/model.bin", 11 * MIB);
        const plan = await planResultsUpload(
          presign,
          bucket,
          runId,
          [
            { path: "out/metrics.json", size: 1234 },
            { path: "out/model.bin", size: 11 * MIB },
          ],
          { partSize: 5 * MIB },
        );
        expect(plan.files[1]?.multipart?.parts).toHaveLength(3);
        const result = await transport.exec(buildUploadScript(remoteDir), {
          stdin: JSON.stringify(plan),
        });
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        const report = parseTransferReport(result.stdout);
        expect(report.failed).toEqual([]);
        expect(report.uploaded.map((o) => [o.path, o.sha256])).toEqual([
          ["out/metrics.json", small],
          ["out/model.bin", big],
        ]);
        // Straight from the host: the object in the bucket is the host's bytes.
        expect(sha256(await getObject(`runs/${runId}/out/model.bin`))).toBe(big);

        const project = await mkdtemp(join(tmpdir(), "offload-pull-"));
        try {
          const record: RunRecord = {
            version: 1,
            id: runId,
            command: ["python", "train.py"],
            target: { label: host, kind: "ssh", host, remoteDir },
            status: "succeeded",
            exitCode: 0,
            startedAt: new Date().toISOString(),
            phases: {},
            envNames: [],
            download: [],
            artifacts: [],
            mappedFiles: [],
            logBytes: 0,
            results: {
              url: formatObjectUrl(bucket, `runs/${runId}/`),
              endpoint: server.endpoint,
              objects: report.uploaded,
            },
          };
          await openRunStore(project).save(record);
          const env = {
            HOME: project,
            AWS_ACCESS_KEY_ID: server.accessKeyId,
            AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
          };
          const to = join(project, "home-copy");
          // A pull killed before its rename left a partial temp (its pid gone): the next pull removes
          // it; a live pull's temp (this process's pid) is left alone.
          const dead = spawnSync("true").pid;
          await mkdir(join(to, "out"), { recursive: true });
          const stale = join(to, `out/model.bin.offload-pull-${dead}`);
          const live = join(to, `out/model.bin.offload-pull-${process.pid}`);
          await writeFile(stale, "partial");
          await writeFile(live, "partial");
          const pulled = await runCli(["pull", runId.slice(-4), "--to", to], { cwd: project, env });
          expect(existsSync(stale)).toBe(false);
          expect(existsSync(live)).toBe(true);
          await rm(live);
          expect(pulled.stderr).toBe("");
          expect(pulled.code).toBe(0);
          expect(pulled.stdout).toContain("Pulled 2 of 2 objects");
          expect(sha256(await readFile(join(to, "out/model.bin")))).toBe(big);
          expect(sha256(await readFile(join(to, "out/metrics.json")))).toBe(small);

          const again = await runCli(["pull", runId, "--to", to], { cwd: project, env });
          expect(again.stdout).toContain("Pulled 0 of 2 objects (0 bytes)");

          // An object replaced in the bucket after the run fails its checksum: nothing is written.
          const put = await presign({
            method: "PUT",
            key: `runs/${runId}/out/metrics.json`,
            expiresIn: 60,
          });
          expect((await fetch(put, { method: "PUT", body: "x".repeat(1234) })).status).toBe(200);
          const fresh = join(project, "fresh");
          const refused = await runCli(["pull", runId, "--to", fresh], { cwd: project, env });
          expect(refused.code).toBe(200);
          expect(refused.stderr).toContain("does not match what the run uploaded");
          expect(existsSync(join(fresh, "out/metrics.json"))).toBe(false);

          // Without keys on this machine, pull says where keys are read from.
          const keyless = await runCli(["pull", runId, "--to", fresh], {
            cwd: project,
            env: { HOME: project, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
          });
          expect(keyless.code).toBe(200);
          expect(keyless.stderr).toContain("No AWS keys found");
          const wrong = await runCli(["pull", runId, "--to", fresh], {
            cwd: project,
            env: { ...env, AWS_SECRET_ACCESS_KEY: "not-the-secret" },
          });
          expect(wrong.code).toBe(200);
          expect(wrong.stderr).toContain("E_STORAGE_AUTH");
          expect(wrong.stderr).toContain("403 SignatureDoesNotMatch");
        } finally {
          await rm(project, { recursive: true, force: true });
        }
      },
      120_000,
    );

    it.skipIf(skip)(
      "resumes a multipart upload cut by a link cut: parts the bucket holds are not sent again",
      async () => {
        const runId = createRunId();
        const size = 16 * MIB;
        const digest = await makeHostFile("ckpt/last.pt", size);
        const plan = await planResultsUpload(
          presign,
          bucket,
          runId,
          [{ path: "ckpt/last.pt", size }],
          { partSize: 5 * MIB, timeout: 3, attempts: 1 },
        );
        const multipart = plan.files[0]?.multipart;
        if (!multipart) throw new Error("expected a multipart upload");
        const listParts = async () => {
          const response = await fetch(multipart.list);
          return (await response.text()).match(/<Part>/g)?.length ?? 0;
        };
        // Slow the host's way out (8 Mbit/s: ~5 s a part) so the cut lands mid-upload. A part then takes
        // longer than the 3 s timeout: it must still go up while its bytes flow (the timeout is for a
        // request that stalls, as at the cut).
        await slowHostSending(host, "8mbit");
        const script = buildUploadScript(remoteDir);
        let firstEnded: string | undefined;
        const first = execInHost(host, ["sh", "-c", script], {
          input: JSON.stringify(plan),
          timeoutMs: 120_000,
        }).then((result) => {
          firstEnded = `the upload ended (${result.code}) before the cut:\n${result.stdout}${result.stderr}`;
          return result;
        });

        // While it runs: neither the keys nor a signed URL are in any host process's argv or env.
        const secrets = [server.secretAccessKey, server.accessKeyId, "X-Amz-Signature"];
        // The host's processes are those in its network namespace (the PID space is shared with this one).
        let uploaderSeen = false;
        for (let i = 0; i < 600 && !uploaderSeen && firstEnded === undefined; i++) {
          const hostPids = processesInHost(host).map((p) => p.pid);
          for (const pid of hostPids) {
            let cmdline = "";
            let environ = "";
            try {
              cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
              environ = readFileSync(`/proc/${pid}/environ`, "utf8");
            } catch {
              continue; // gone meanwhile
            }
            if (cmdline.includes("CompleteMultipartUpload")) uploaderSeen = true;
            for (const secret of secrets) {
              expect(cmdline).not.toContain(secret);
              expect(environ).not.toContain(secret);
            }
          }
          if (!uploaderSeen) await sleep(100);
        }
        expect(uploaderSeen, firstEnded).toBe(true);

        // The cut comes right after the first part is whole, so it lands inside a later part.
        let done = 0;
        for (let i = 0; i < 600 && done === 0 && firstEnded === undefined; i++) {
          await sleep(100);
          done = await listParts();
        }
        expect(done, firstEnded).toBeGreaterThanOrEqual(1);
        expect(done).toBeLessThan(4);
        await cutLink(host);
        const cut = await first;
        await healLink(host);
        await unslowHostSending(host);
        expect(cut.code).toBe(1);
        expect(parseTransferReport(cut.stdout).failed[0]?.error).toMatch(
          /part \d of ckpt\/last\.pt/,
        );
        // The uploader gave up, but its kernel still delivers the part it was sending once the link is
        // back: the bucket may gain that part after the cut. Only once the server is done with every
        // connection from the host is the bucket's count the one a resume finds.
        await waitUntilServerIdle(server);
        const held = await listParts();
        expect(held).toBeGreaterThanOrEqual(done);

        // A later try signs the same upload again (its first URLs may have expired by then).
        const replanned = await planResultsUpload(
          presign,
          bucket,
          runId,
          [{ path: "ckpt/last.pt", size }],
          { partSize: 5 * MIB, expiresIn: 1800, uploadIds: { "ckpt/last.pt": multipart.uploadId } },
        );
        expect(replanned.files[0]?.multipart?.uploadId).toBe(multipart.uploadId);
        expect(replanned.files[0]?.multipart?.parts[0]).not.toBe(multipart.parts[0]);
        const resumed = await execInHost(host, ["sh", "-c", script], {
          input: JSON.stringify(replanned),
          timeoutMs: 120_000,
        });
        expect(resumed.stderr).toBe("");
        expect(resumed.code).toBe(0);
        const report = parseTransferReport(resumed.stdout);
        expect(report.skippedParts["ckpt/last.pt"]?.length).toBe(held);
        expect(report.uploaded[0]?.sha256).toBe(digest);
        expect(sha256(await getObject(`runs/${runId}/ckpt/last.pt`))).toBe(digest);
        // Only the parts the bucket lacked crossed again.
        const partPuts = () =>
          server
            .requests()
            .filter((line) => line.includes(`/ckpt/last.pt?partNumber,uploadId 200`));
        expect(partPuts().length).toBe(4);

        // Run once more, as after a completed upload whose answer was lost: the object is found, not resent.
        const rerun = await execInHost(host, ["sh", "-c", script], {
          input: JSON.stringify(plan),
          timeoutMs: 120_000,
        });
        expect(rerun.code).toBe(0);
        expect(parseTransferReport(rerun.stdout).uploaded[0]?.sha256).toBe(digest);
        expect(partPuts().length).toBe(4);
      },
      180_000,
    );

    it.skipIf(skip)(
      "fetches inputs into a cache keyed by ETag: a second fetch transfers nothing",
      async () => {
        const data = randomBytes(3 * MIB);
        const key = "datasets/x.tar";
        const put = await presign({ method: "PUT", key, expiresIn: 60 });
        expect((await fetch(put, { method: "PUT", body: data })).status).toBe(200);
        const entry = { url: `s3://${bucket.bucket}/${key}`, bucket, key, to: "data/" };
        const fetchInputs = async (dir: string) => {
          const plan = await planInputs(async () => presign, [entry]);
          const result = await transport.exec(buildFetchInputsScript(dir), {
            stdin: JSON.stringify(plan),
          });
          expect(result.stderr).toBe("");
          expect(result.code).toBe(0);
          const placed = await transport.exec(`sha256sum ${dir}/data/x.tar`);
          expect(placed.stdout.split(" ")[0]).toBe(sha256(data));
          return parseTransferReport(result.stdout).inputs[0];
        };
        const gets = () =>
          server.requests().filter((l) => l.startsWith(`GET /${bucket.bucket}/${key}?`));

        const first = await fetchInputs(remoteDir);
        expect(first).toMatchObject({ cached: false, bytes: data.length, dest: "data/x.tar" });
        expect(gets()).toHaveLength(1);

        await transport.exec(`mkdir -p ${remoteDir}-second`);
        const second = await fetchInputs(`${remoteDir}-second`);
        expect(second).toMatchObject({ cached: true, bytes: 0, etag: first?.etag });
        expect(gets()).toHaveLength(1);

        // A new version of the object has a new ETag: fetched again.
        const changed = randomBytes(1024);
        expect((await fetch(put, { method: "PUT", body: changed })).status).toBe(200);
        const plan = await planInputs(async () => presign, [entry]);
        const third = await transport.exec(buildFetchInputsScript(remoteDir), {
          stdin: JSON.stringify(plan),
        });
        expect(parseTransferReport(third.stdout).inputs[0]).toMatchObject({
          cached: false,
          bytes: 1024,
        });
        await transport.exec(`rm -rf ${remoteDir}-second`);
      },
      120_000,
    );

    it.skipIf(skip)("leaves no key and no signed URL in the host's files", async () => {
      const written = (args: string) =>
        execInHost(host, [
          "sh",
          "-c",
          `find /root /tmp -xdev -type f -newer "$1" -print0 2>/dev/null | xargs -0 -r ${args}`,
          "sh",
          mark,
        ]);
      // The look can find something: the tests' scripts wrote the inputs under the remote dir.
      expect((await written("ls")).stdout).toContain(`${remoteDir}/data/x.tar`);
      for (const secret of [server.secretAccessKey, server.accessKeyId, "X-Amz-Signature"]) {
        const found = await written(`grep -slF -- '${secret}'`);
        expect(found.stdout).toBe("");
      }
    });

    it.skipIf(skip)(
      "refuses a presigned URL after its lifetime, and a forged one",
      async () => {
        const key = "runs/expiry.txt";
        const put = await presign({ method: "PUT", key, expiresIn: 60 });
        expect((await fetch(put, { method: "PUT", body: "kept" })).status).toBe(200);
        // Long enough for the first fetch from the host under a loaded machine (2 s was not).
        const url = await presign({ method: "GET", key, expiresIn: 5 });
        const fromHost = () =>
          execInHost(
            host,
            [
              "/usr/bin/python3",
              "-c",
              "import sys,urllib.request,urllib.error\ntry:\n print(urllib.request.urlopen(sys.stdin.read()).status)\nexcept urllib.error.HTTPError as e:\n print(e.code, e.read().decode())",
            ],
            { input: url },
          );
        expect((await fromHost()).stdout.trim()).toBe("200");
        await sleep(6000);
        const late = await fromHost();
        expect(late.stdout).toMatch(/^403 .*Request has expired/);

        const forged = put.replace(/X-Amz-Expires=60/, "X-Amz-Expires=600");
        const refused = await fetch(forged, { method: "PUT", body: "changed" });
        expect(refused.status).toBe(403);
        expect(await refused.text()).toContain("SignatureDoesNotMatch");
      },
      30_000,
    );
  },
  { netns: true },
);
