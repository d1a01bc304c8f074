// `offload pull` against a real S3 API (moto's server on loopback) with hostile object names and a `--to`
// folder holding a symlink that leads out of it: names come home as they are, nothing is written outside.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunId } from "../../src/runs/new-id.js";
import { openRunStore } from "../../src/runs/store.js";
import type { Presign } from "../../src/storage/presign.js";
import type { UploadedObject } from "../../src/storage/transfer-events.js";
import { formatObjectUrl, parseBucketUrl } from "../../src/storage/url.js";
import { runCli } from "../support/cli.js";
import { makeRecord } from "../support/record.js";
import { createBucket, type S3Server, startS3Server, whyNoS3Server } from "./s3-server.js";

const noServer = whyNoS3Server();
if (noServer) process.stderr.write(`[storage] skipping the pull tests: ${noServer}\n`);
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

describe.skipIf(noServer !== undefined)("offload pull: hostile names and symlinks", () => {
  const bucket = parseBucketUrl("s3://offload-pull/runs/");
  let server: S3Server;
  let presign: Presign;
  let dir = "";

  beforeAll(async () => {
    server = await startS3Server("127.0.0.1");
    ({ presign } = await createBucket(server, "s3://offload-pull/runs/"));
    dir = await mkdtemp(join(tmpdir(), "offload-pull-names-"));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Puts each path's bytes under the run's prefix; returns what run.json records of them. */
  async function putObjects(runId: string, paths: string[]): Promise<UploadedObject[]> {
    const objects: UploadedObject[] = [];
    for (const path of paths) {
      const data = randomBytes(2000);
      const key = `${bucket.prefix}${runId}/${path}`;
      const put = await fetch(await presign({ method: "PUT", key, expiresIn: 60 }), {
        method: "PUT",
        body: data,
      });
      expect(put.status, `${key}: ${await put.text()}`).toBe(200);
      objects.push({ path, key, size: data.length, sha256: sha256(data) });
    }
    return objects;
  }

  /** A project whose one run recorded `objects` in the bucket; returns its dir and the run id. */
  async function projectWith(runId: string, objects: UploadedObject[]): Promise<string> {
    const project = await mkdtemp(join(dir, "project-"));
    const record = makeRecord({
      id: runId,
      target: { label: "local", kind: "local", remoteDir: project },
      results: {
        url: formatObjectUrl(bucket, `${bucket.prefix}${runId}/`),
        endpoint: server.endpoint,
        objects,
      },
    });
    await openRunStore(project).save(record);
    return project;
  }

  const envOf = (home: string) => ({
    HOME: home,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
  });

  it("brings objects named with spaces, unicode, a leading dash and dots home under those names", async () => {
    const runId = createRunId();
    const paths = ["out/with space.txt", "out/ünï cødé €.bin", "-leading-dash", "out/a..b/c"];
    const objects = await putObjects(runId, paths);
    const project = await projectWith(runId, objects);
    const to = join(project, "home");
    const pulled = await runCli(["pull", runId, "--to", to], { cwd: project, env: envOf(project) });
    expect(pulled.stderr).toBe("");
    expect(pulled.code).toBe(0);
    for (const object of objects)
      expect(sha256(await readFile(join(to, object.path)))).toBe(object.sha256);
  });

  it("refuses a --to folder whose subfolder is a symlink leading out of it: nothing written there", async () => {
    const runId = createRunId();
    const objects = await putObjects(runId, ["a-first.txt", "out/model.bin"]);
    const project = await projectWith(runId, objects);
    const outside = await mkdtemp(join(dir, "outside-"));
    const to = join(project, "home");
    await mkdir(to);
    await symlink(outside, join(to, "out"));
    const refused = await runCli(["pull", runId, "--to", to], {
      cwd: project,
      env: envOf(project),
    });
    expect(refused.stderr).toContain("E_PATH_ESCAPE");
    expect(refused.stderr).toContain(`${join(to, "out")} is a symlink to ${outside}`);
    expect(refused.code).toBe(200);
    expect(await readdir(outside)).toEqual([]);
    // Checked before anything is fetched: the object that was fine is not there either.
    expect(existsSync(join(to, "a-first.txt"))).toBe(false);

    // A symlink that stays inside the folder is followed.
    await rm(join(to, "out"));
    await mkdir(join(to, "real-out"));
    await symlink("real-out", join(to, "out"));
    const inside = await runCli(["pull", runId, "--to", to], { cwd: project, env: envOf(project) });
    expect(inside.stderr).toBe("");
    expect(inside.code).toBe(0);
    expect(sha256(await readFile(join(to, "real-out", "model.bin")))).toBe(objects[1]?.sha256);
  });
});
