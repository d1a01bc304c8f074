// Bucket URLs and where keys come from, read as the AWS CLI and gsutil read them (real files in a temp HOME).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveStorageAccess } from "../../src/storage/access.js";
import { resolveInputDest } from "../../src/storage/inputs-plan.js";
import { parseBucketUrl, parseObjectUrl, resultKey } from "../../src/storage/url.js";

let home: string | undefined;
afterEach(async () => {
  if (home) await rm(home, { recursive: true, force: true });
  home = undefined;
});

async function makeHome(files: Record<string, string>): Promise<string> {
  home = await mkdtemp(join(tmpdir(), "offload-aws-"));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(home, path, ".."), { recursive: true });
    await writeFile(join(home, path), text);
  }
  return home;
}

describe("bucket URLs", () => {
  it("reads a bucket and a folder prefix, and refuses what is not one", () => {
    expect(parseBucketUrl("s3://my-bucket/runs")).toEqual({
      scheme: "s3",
      bucket: "my-bucket",
      prefix: "runs/",
    });
    expect(parseBucketUrl("gs://b-1/").prefix).toBe("");
    expect(() => parseBucketUrl("http://b/x")).toThrow(/Not a bucket URL/);
    expect(() => parseBucketUrl("s3://B/x")).toThrow(/Not a bucket URL/);
    expect(() => parseBucketUrl("s3://bucket/../x")).toThrow(/\.\./);
    expect(parseObjectUrl("s3://bkt/datasets/x.tar")).toMatchObject({ key: "datasets/x.tar" });
    expect(() => parseObjectUrl("s3://bkt/datasets/")).toThrow(/folder/);
  });

  it("puts a run's file under <prefix><run id>/ and never outside it", () => {
    const bucket = parseBucketUrl("s3://bkt/runs/");
    expect(resultKey(bucket, "20261201-101010-abcd", "./out/m.pt")).toBe(
      "runs/20261201-101010-abcd/out/m.pt",
    );
    expect(() => resultKey(bucket, "20261201-101010-abcd", "../x")).toThrow(/leaves/);
    expect(resolveInputDest({ key: "datasets/x.tar", to: "data/" })).toBe("data/x.tar");
    expect(resolveInputDest({ key: "datasets/x.tar", to: "data/train.tar" })).toBe(
      "data/train.tar",
    );
    expect(() => resolveInputDest({ key: "x", to: "../up/" })).toThrow(/outside/);
    expect(() => resolveInputDest({ key: "x", to: "/etc/" })).toThrow(/outside/);
  });
});

describe("storage access", () => {
  it("takes AWS_* env vars first, virtual-hosted addressing on AWS", async () => {
    const access = resolveStorageAccess(parseBucketUrl("s3://bkt/"), {
      env: {
        AWS_ACCESS_KEY_ID: "id",
        AWS_SECRET_ACCESS_KEY: "secret",
        AWS_SESSION_TOKEN: "tok",
        AWS_REGION: "eu-west-3",
      },
      home: await makeHome({}),
    });
    expect(access.credentials).toEqual({
      accessKeyId: "id",
      secretAccessKey: "secret",
      sessionToken: "tok",
    });
    expect(access.origin).toBe("https://bkt.s3.eu-west-3.amazonaws.com");
    expect(access.pathStyle).toBe(false);
  });

  it("reads the AWS_PROFILE's keys from ~/.aws/credentials and its region and endpoint from ~/.aws/config", async () => {
    const dir = await makeHome({
      ".aws/credentials":
        "[default]\naws_access_key_id = d\naws_secret_access_key = ds\n\n[work]\naws_access_key_id = w\naws_secret_access_key = ws\n",
      ".aws/config":
        "[profile work]\nregion = ap-south-1\nendpoint_url = http://minio.local:9000\ns3 =\n  addressing_style = path\n",
    });
    const access = resolveStorageAccess(parseBucketUrl("s3://bkt/"), {
      env: { AWS_PROFILE: "work" },
      home: dir,
    });
    expect(access.credentials.accessKeyId).toBe("w");
    expect(access.region).toBe("ap-south-1");
    expect(access).toMatchObject({ origin: "http://minio.local:9000", pathStyle: true });
    const byDefault = resolveStorageAccess(parseBucketUrl("s3://bkt/"), { env: {}, home: dir });
    expect(byDefault.credentials.accessKeyId).toBe("d");
    expect(byDefault.region).toBe("us-east-1");
  });

  it("lets storage.endpoint beat AWS_ENDPOINT_URL_S3, which beats AWS_ENDPOINT_URL", async () => {
    const env = {
      AWS_ACCESS_KEY_ID: "i",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_ENDPOINT_URL: "http://a:1",
      AWS_ENDPOINT_URL_S3: "http://b:2",
    };
    const bucket = parseBucketUrl("s3://bkt/");
    const dir = await makeHome({});
    expect(resolveStorageAccess(bucket, { env, home: dir }).origin).toBe("http://b:2");
    expect(
      resolveStorageAccess(bucket, {
        env,
        home: dir,
        endpoint: "https://acct.r2.cloudflarestorage.com",
      }).origin,
    ).toBe("https://acct.r2.cloudflarestorage.com");
  });

  it("signs gs:// with the GCS HMAC keys at storage.googleapis.com, path-style", async () => {
    const dir = await makeHome({
      ".boto": "[Credentials]\ngs_access_key_id = GOOG1\ngs_secret_access_key = bs\n",
    });
    const bucket = parseBucketUrl("gs://bkt/x/");
    const fromBoto = resolveStorageAccess(bucket, {
      env: { AWS_ACCESS_KEY_ID: "aws", AWS_SECRET_ACCESS_KEY: "s" },
      home: dir,
    });
    expect(fromBoto).toMatchObject({
      origin: "https://storage.googleapis.com",
      pathStyle: true,
      region: "auto",
    });
    expect(fromBoto.credentials.accessKeyId).toBe("GOOG1");
    const fromEnv = resolveStorageAccess(bucket, {
      env: { GS_ACCESS_KEY_ID: "GOOG2", GS_SECRET_ACCESS_KEY: "es" },
      home: dir,
    });
    expect(fromEnv.credentials.accessKeyId).toBe("GOOG2");
  });

  it("says where keys are read from when there are none", async () => {
    const dir = await makeHome({});
    expect(() => resolveStorageAccess(parseBucketUrl("s3://bkt/"), { env: {}, home: dir })).toThrow(
      /No AWS keys found/,
    );
    expect(() => resolveStorageAccess(parseBucketUrl("gs://bkt/"), { env: {}, home: dir })).toThrow(
      /GCS HMAC/,
    );
  });
});
