// Plans the fetch of `inputs:` (`s3://bucket/datasets/x.tar → data/`): a presigned HEAD (the ETag decides
// whether the cache has it) and GET per object, and where it lands in the remote dir.
import { createHash } from "node:crypto";
import { OffloadError } from "../errors.js";
import type { Presign } from "./presign.js";
import type { BucketUrl } from "./url.js";

export interface InputEntry {
  /** `s3://bucket/datasets/x.tar` */
  url: string;
  bucket: BucketUrl;
  key: string;
  /** Relative to the remote dir; ending in `/`: a folder the object goes into under its own name. */
  to: string;
}

export interface InputsPlan {
  inputs: { url: string; head: string; get: string; dest: string; cacheKey: string }[];
  /** Where the remote machine keeps fetched objects, by object and ETag. */
  cacheDir: string;
  timeout: number;
}

export const INPUTS_CACHE_DIR = "~/.cache/offload/inputs";

/** The file an input lands in, relative to the remote dir; refuses a path leaving it. */
export function resolveInputDest(entry: Pick<InputEntry, "key" | "to">): string {
  const base = entry.key.split("/").pop() ?? entry.key;
  const dest = entry.to.endsWith("/") || entry.to === "" ? `${entry.to}${base}` : entry.to;
  const clean = dest.replace(/^(\.\/)+/, "");
  if (clean.startsWith("/") || clean.startsWith("~") || clean.split("/").includes("..")) {
    throw new OffloadError(
      "E_PATH_ESCAPE",
      `Input ${entry.key} would land outside the run's folder (${entry.to}).`,
      {
        hint: "Name where it goes relative to the remote dir, such as data/.",
      },
    );
  }
  return clean;
}

export async function planInputs(
  presignFor: (bucket: BucketUrl) => Promise<Presign>,
  entries: readonly InputEntry[],
  options: { expiresIn?: number; timeout?: number } = {},
): Promise<InputsPlan> {
  const expiresIn = options.expiresIn ?? 3600;
  const inputs = await Promise.all(
    entries.map(async (entry) => {
      const presign = await presignFor(entry.bucket);
      const [head, get] = await Promise.all([
        presign({ method: "HEAD", key: entry.key, expiresIn }),
        presign({ method: "GET", key: entry.key, expiresIn }),
      ]);
      // One cache folder an object (by its URL); the ETag names the version inside it.
      const cacheKey = createHash("sha256").update(entry.url).digest("hex").slice(0, 32);
      return { url: entry.url, head, get, dest: resolveInputDest(entry), cacheKey };
    }),
  );
  return { inputs, cacheDir: INPUTS_CACHE_DIR, timeout: options.timeout ?? 60 };
}
