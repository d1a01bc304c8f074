// A checkpoint pushed to a bucket (`results:` with `every:`) whose file is rewritten in place while it is
// read for the upload: the object in the bucket must keep its last whole version (it was replaced by
// a mix of two versions: the multipart upload was completed before the look after it found the file
// changed), and the next checkpoint puts the file once it is whole. The S3 API is moto's server; the
// test holds the upload's part requests at a gate (test/storage/s3-server.py) to rewrite the file on
// h3 between the reads of its two parts.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Presign } from "../../src/storage/presign.js";
import { createBucket, type S3Server, startS3Server, whyNoS3Server } from "../storage/s3-server.js";
import { type CliResult, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, execInHost } from "../testbed/index.js";

const BRIDGE = "10.200.1.1";
const BUCKET = "offload-ckpt-torn";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const noServer = whyNoS3Server();

async function waitFor(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1800; i++) {
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeWithHosts(
  3,
  "a bucket checkpoint torn by a rewrite during its upload",
  (bed) => {
    const host = bed.hosts[2] ?? "offload-h3";
    const remoteDir = `/root/offload-ckpt-bucket-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), "offload-ckpt-bucket-"));
    const gate = join(dir, "gate");
    let server: S3Server;
    let presign: Presign;
    let project: TempProject | undefined;
    let running: Promise<CliResult> | undefined;

    beforeAll(async () => {
      if (noServer) return;
      // The part uploads of ckpt.bin (a file over 16 MiB goes up in parts), each held until let go.
      server = await startS3Server(BRIDGE, {
        hold: `^PUT /${BUCKET}/runs/[^/]+/ckpt\\.bin\\?partNumber,uploadId$`,
        gate,
      });
      ({ presign } = await createBucket(server, `s3://${BUCKET}/`));
    }, 60_000);

    afterAll(async () => {
      if (noServer) return;
      // A failed test leaves the job waiting and offload held: both are let go and waited for first.
      await writeFile(`${gate}.off`, "");
      await execInHost(host, ["touch", `${remoteDir}/release`]).catch(() => {});
      await running;
      await execInHost(host, ["rm", "-rf", remoteDir]).catch(() => {});
      await project?.remove();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const onHost = async (script: string) => {
      const result = await execInHost(host, ["sh", "-c", `cd ${remoteDir} && ${script}`]);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };
    const rewriteInPlace = () =>
      onHost("dd if=/dev/urandom of=ckpt.bin bs=1M count=17 conv=notrunc status=none");
    const hostSha = async () => (await onHost("sha256sum ckpt.bin")).split(" ")[0];
    const held = (n: number) => waitFor(() => existsSync(`${gate}.held.${n}`), `part request ${n}`);
    const letGo = (n: number) => writeFile(`${gate}.go.${n}`, "");
    const bucketSha = async (id: string) => {
      const url = await presign({ method: "GET", key: `runs/${id}/ckpt.bin`, expiresIn: 60 });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      return sha256(new Uint8Array(await response.arrayBuffer()));
    };

    it.skipIf(noServer !== undefined)(
      "keeps the last whole version in the bucket, then puts the file once it is whole",
      async () => {
        project = await makeProject();
        await project.write(
          "offload.yaml",
          [
            `results: { url: s3://${BUCKET}/runs/, every: 1s }`,
            "storage:",
            `  endpoint: ${server.endpoint}`,
            "download:",
            "  - ckpt.bin",
            "",
          ].join("\n"),
        );
        const job =
          "head -c 17825792 /dev/urandom > ckpt.tmp && mv ckpt.tmp ckpt.bin && while [ ! -e release ]; do sleep 0.2; done";
        running = runCli(
          [
            "run",
            "--ssh-config",
            bed.sshConfig,
            "--host",
            `${host}/${remoteDir}`,
            "--",
            "sh",
            "-c",
            job,
          ],
          {
            cwd: project.dir,
            env: {
              HOME: project.home,
              AWS_ACCESS_KEY_ID: server.accessKeyId,
              AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
            },
            timeoutMs: 230_000,
          },
        );
        // Checkpoint 1 puts the first version whole.
        for (const n of [1, 2]) {
          await held(n);
          await letGo(n);
        }
        let id = "";
        await waitFor(async () => {
          [id = ""] = (await project?.runIds()) ?? [];
          return (
            id !== "" &&
            (await project?.record(id).catch(() => undefined))?.checkpoint !== undefined
          );
        }, "the first checkpoint");
        const first = await hostSha();
        expect(await bucketSha(id)).toBe(first);
        // Checkpoint 2: the file is rewritten in place after its first part was read.
        await rewriteInPlace();
        await held(3);
        await rewriteInPlace();
        await letGo(3);
        await held(4);
        await letGo(4);
        // Checkpoint 3 has begun (the file held still since): the bucket still has the first version.
        await held(5);
        expect(await bucketSha(id)).toBe(first);
        await writeFile(`${gate}.off`, "");
        await onHost("touch release");
        const result = await running;
        expect(result.code, result.stderr).toBe(0);
        const last = await hostSha();
        expect(await bucketSha(id)).toBe(last);
        const record = await project.record(id);
        expect(record.results?.objects).toEqual([
          expect.objectContaining({ path: "ckpt.bin", sha256: last }),
        ]);
        // The torn upload was dropped, not completed.
        expect(server.requests().some((l) => /^DELETE .*ckpt\.bin\?uploadId 204/.test(l))).toBe(
          true,
        );
      },
      240_000,
    );
  },
  { netns: true },
);
