// Brings a run's bucket objects home: each one streamed to a temp file beside its place, its size and
// SHA-256 checked against what the remote machine reported at upload, then renamed into place.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OffloadError } from "../errors.js";
import { type AccessOptions, resolveStorageAccess } from "./access.js";
import { createPresigner, type Presign } from "./presign.js";
import { requestBucket } from "./request.js";
import type { UploadedObject } from "./transfer-events.js";
import { parseBucketUrl } from "./url.js";

/** What run.json keeps of a run's results in a bucket (`results` of the record). */
export interface StoredResults {
  /** `s3://bucket/prefix/<run id>/` */
  url: string;
  endpoint?: string;
  region?: string;
  objects: UploadedObject[];
}

export interface PulledObject {
  path: string;
  size: number;
  /** Already at home with the same SHA-256: not fetched. */
  skipped: boolean;
}

async function hashFile(path: string): Promise<string | undefined> {
  const hash = createHash("sha256");
  try {
    await pipeline(createReadStream(path), hash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return hash.digest("hex");
}

/**
 * The local file for an object's path; refuses one that would leave `toDir`, by `..` or through a
 * folder below `toDir` that is a symlink leading out of it (the object would be written wherever that
 * points; rsync's downloads never write through a symlink either). A link that stays inside is fine.
 */
async function placeOf(toDir: string, path: string): Promise<string> {
  const root = resolve(toDir);
  const target = resolve(root, path);
  if (!target.startsWith(root + sep)) {
    throw new OffloadError("E_PATH_ESCAPE", `Result ${path} would land outside ${toDir}.`, {
      hint: "The run record names a path leaving its folder: check run.json was not edited.",
    });
  }
  const parts = relative(root, target).split(sep).slice(0, -1);
  const realRoot = await realpath(root).catch(() => root);
  for (let i = 1; i <= parts.length; i++) {
    const folder = join(root, ...parts.slice(0, i));
    const info = await lstat(folder).catch(() => undefined);
    if (info === undefined) break;
    if (!info.isSymbolicLink()) continue;
    const points = await realpath(folder).catch(() => "");
    if (points.startsWith(realRoot + sep)) continue;
    throw new OffloadError(
      "E_PATH_ESCAPE",
      `Result ${path} would land outside ${toDir}: ${folder} is a symlink to ${points || "nowhere"}.`,
      {
        hint: `Nothing was written through it. Pull into another folder (\`--to\`), or replace the symlink by a folder.`,
      },
    );
  }
  return target;
}

const TEMP_MARK = ".offload-pull-";

/** Whether a process with this pid still runs here (EPERM: it runs, as another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temp files a pull killed before its rename left beside `target` (its pid in the name,
 * that process gone): each is a partial object, never to be finished. A live pull's temp is left alone.
 */
async function removeDeadTemps(target: string): Promise<void> {
  const prefix = `${basename(target)}${TEMP_MARK}`;
  const names = await readdir(dirname(target)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid))
      await rm(join(dirname(target), name), { force: true });
  }
}

async function fetchObject(
  presign: Presign,
  object: UploadedObject,
  target: string,
): Promise<void> {
  const url = await presign({ method: "GET", key: object.key, expiresIn: 900 });
  const response = await requestBucket(`Fetching ${object.key}`, url);
  if (!response.body)
    throw new OffloadError("E_DOWNLOAD", `The bucket sent no body for ${object.key}.`);
  await mkdir(dirname(target), { recursive: true });
  await removeDeadTemps(target);
  const temp = `${target}${TEMP_MARK}${process.pid}`;
  const hash = createHash("sha256");
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as never), count, createWriteStream(temp));
    const sha256 = hash.digest("hex");
    if (size !== object.size || sha256 !== object.sha256) {
      throw new OffloadError(
        "E_DOWNLOAD",
        `${object.key} does not match what the run uploaded (${size} bytes, SHA-256 ${sha256.slice(0, 12)}…; expected ${object.size} bytes, ${object.sha256.slice(0, 12)}…).`,
        {
          hint: "The object was changed or replaced in the bucket after the run: nothing was written.",
        },
      );
    }
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}

/** Fetches each object not already at home with the same SHA-256. */
export async function pullObjects(
  presign: Presign,
  objects: readonly UploadedObject[],
  toDir: string,
): Promise<PulledObject[]> {
  const pulled: PulledObject[] = [];
  // Every place checked before anything is fetched: a refused one leaves no pull half done.
  const placed: { object: UploadedObject; target: string }[] = [];
  for (const object of objects) placed.push({ object, target: await placeOf(toDir, object.path) });
  for (const { object, target } of placed) {
    const here = await stat(target).catch(() => undefined);
    if (here?.isFile() && here.size === object.size && (await hashFile(target)) === object.sha256) {
      pulled.push({ path: object.path, size: object.size, skipped: true });
      continue;
    }
    await fetchObject(presign, object, target);
    pulled.push({ path: object.path, size: object.size, skipped: false });
  }
  return pulled;
}

/** Pulls a run's recorded results with this machine's keys for their bucket. */
export async function pullResults(
  results: StoredResults,
  toDir: string,
  options: Omit<AccessOptions, "endpoint" | "region"> = {},
): Promise<PulledObject[]> {
  const access = resolveStorageAccess(parseBucketUrl(results.url), {
    ...options,
    endpoint: results.endpoint,
    region: results.region,
  });
  return pullObjects(await createPresigner(access), results.objects, toDir);
}
