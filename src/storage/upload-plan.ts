// Plans the upload of a run's results: one presigned PUT a small file, a multipart upload (started here,
// parts signed here) for a large one. The plan goes to the remote machine on stdin.
import { OffloadError } from "../errors.js";
import type { Presign } from "./presign.js";
import { requestBucket } from "./request.js";
import { type BucketUrl, resultKey } from "./url.js";

export interface ResultFile {
  /** Path relative to the remote dir. */
  path: string;
  size: number;
}

export interface PlannedUpload {
  path: string;
  key: string;
  size: number;
  put?: string;
  multipart?: {
    uploadId: string;
    partSize: number;
    parts: string[];
    list: string;
    complete: string;
    /** HEAD of the object: a rerun after a completed upload whose answer was lost finds it there. */
    head: string;
    /** AbortMultipartUpload: parts read from a file written meanwhile are dropped, never completed. */
    abort: string;
  };
}

export interface UploadPlan {
  files: PlannedUpload[];
  /** Seconds the remote side waits on one request before it counts as dropped. */
  timeout: number;
  /** Tries of each request (a dropped part is sent again after ListParts). */
  attempts: number;
}

export interface UploadOptions {
  /** Bytes per part; files larger than this go up in parts. S3 wants at least 5 MiB. */
  partSize?: number;
  /** Lifetime of the URLs in seconds. */
  expiresIn?: number;
  timeout?: number;
  attempts?: number;
  /**
   * Multipart uploads begun by an earlier plan, by path: their parts are signed again (fresh URLs, same
   * upload id), so a retry after the old URLs expired still skips the parts the bucket holds.
   */
  uploadIds?: Readonly<Record<string, string>>;
}

const MIB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 16 * MIB;
/** S3 takes at most 10,000 parts; ListParts answers 1,000 a page: stay within one page. */
const MAX_PARTS = 1000;

/** Starts a multipart upload (the upload id must be known to sign its parts). */
export async function createMultipartUpload(presign: Presign, key: string): Promise<string> {
  const url = await presign({ method: "POST", key, query: { uploads: "" }, expiresIn: 300 });
  const response = await requestBucket(`Starting the upload of ${key}`, url, { method: "POST" });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await response.text())?.[1];
  if (!uploadId) {
    throw new OffloadError("E_STORAGE", `The bucket gave no upload id for ${key}.`, {
      hint: "Check storage.endpoint names an S3-compatible API that supports multipart uploads.",
    });
  }
  return uploadId;
}

async function planMultipart(
  presign: Presign,
  key: string,
  size: number,
  options: UploadOptions,
  uploadIdBefore: string | undefined,
) {
  const expiresIn = options.expiresIn ?? 3600;
  const partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, Math.ceil(size / MAX_PARTS));
  const uploadId = uploadIdBefore ?? (await createMultipartUpload(presign, key));
  const count = Math.ceil(size / partSize);
  const parts = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      presign({
        method: "PUT",
        key,
        query: { partNumber: String(i + 1), uploadId },
        expiresIn,
      }),
    ),
  );
  const [list, complete, head, abort] = await Promise.all([
    presign({ method: "GET", key, query: { uploadId }, expiresIn }),
    presign({ method: "POST", key, query: { uploadId }, expiresIn }),
    presign({ method: "HEAD", key, expiresIn }),
    presign({ method: "DELETE", key, query: { uploadId }, expiresIn }),
  ]);
  return { uploadId, partSize, parts, list, complete, head, abort };
}

/** Signs the upload of each file to `<prefix><run id>/<path>`. */
export async function planResultsUpload(
  presign: Presign,
  bucket: BucketUrl,
  runId: string,
  files: readonly ResultFile[],
  options: UploadOptions = {},
): Promise<UploadPlan> {
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const planned = await Promise.all(
    files.map(async (file): Promise<PlannedUpload> => {
      const key = resultKey(bucket, runId, file.path);
      if (file.size > partSize) {
        const before = options.uploadIds?.[file.path];
        const multipart = await planMultipart(presign, key, file.size, options, before);
        return { path: file.path, key, size: file.size, multipart };
      }
      const put = await presign({ method: "PUT", key, expiresIn: options.expiresIn ?? 3600 });
      return { path: file.path, key, size: file.size, put };
    }),
  );
  return { files: planned, timeout: options.timeout ?? 60, attempts: options.attempts ?? 5 };
}
