// Bucket URLs (`s3://bucket/prefix/`, `gs://bucket/prefix/`) and the object keys a run's results get (pure).
import { OffloadError } from "../errors.js";

export interface BucketUrl {
  scheme: "s3" | "gs";
  bucket: string;
  /** Key prefix without a leading slash; "" or ending in "/". */
  prefix: string;
}

// S3's and GCS's bucket naming rules, loosely: what an endpoint would refuse is refused here first.
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/;

/** Parses `s3://bucket/some/prefix` (a trailing slash is implied: the prefix is a folder). */
export function parseBucketUrl(text: string): BucketUrl {
  const match = /^(s3|gs):\/\/([^/]+)(?:\/(.*))?$/.exec(text);
  const bucket = match?.[2] ?? "";
  if (!match || !BUCKET.test(bucket)) {
    throw new OffloadError("E_CONFIG_VALUE", `Not a bucket URL: ${JSON.stringify(text)}.`, {
      hint: "Write s3://bucket/prefix/ or gs://bucket/prefix/ (for R2 or MinIO: s3:// with storage.endpoint).",
    });
  }
  const rest = (match[3] ?? "").replace(/^\/+/, "");
  if (rest.split("/").some((part) => part === "." || part === "..")) {
    throw new OffloadError("E_CONFIG_VALUE", `Bucket URL ${text} has a . or .. in its prefix.`, {
      hint: "Name the prefix plainly: s3://bucket/runs/.",
    });
  }
  const prefix = rest === "" || rest.endsWith("/") ? rest : `${rest}/`;
  return { scheme: match[1] as "s3" | "gs", bucket, prefix };
}

/** Parses the URL of one object (`s3://bucket/datasets/x.tar`): the key is what follows the bucket. */
export function parseObjectUrl(text: string): { bucket: BucketUrl; key: string } {
  const bucket = parseBucketUrl(text);
  const key = bucket.prefix.replace(/\/$/, "");
  if (key === "" || text.endsWith("/")) {
    throw new OffloadError("E_CONFIG_VALUE", `${text} names a folder, not an object.`, {
      hint: "Name one object, such as s3://bucket/datasets/x.tar.",
    });
  }
  return { bucket: { ...bucket, prefix: "" }, key };
}

export function formatObjectUrl(bucket: BucketUrl, key: string): string {
  return `${bucket.scheme}://${bucket.bucket}/${key}`;
}

/** Where a run's file goes: `<prefix><run id>/<path relative to the remote dir>`. */
export function resultKey(bucket: BucketUrl, runId: string, relativePath: string): string {
  const clean = relativePath.replace(/^(\.\/)+/, "");
  if (clean === "" || clean.startsWith("/") || clean.split("/").includes("..")) {
    throw new OffloadError(
      "E_PATH_ESCAPE",
      `Result path ${relativePath} leaves the run's folder.`,
      {
        hint: "Results are files below the remote dir; name them relative to it.",
      },
    );
  }
  return `${bucket.prefix}${runId}/${clean}`;
}
