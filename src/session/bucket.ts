// The bucket phases of a run (`results:`, `inputs:`): keys are read and URLs signed on this machine, the
// remote machine moves the bytes with the Python programs of storage/ and never sees a key. Here: the
// keys checked first, and the results pushed from the host; bucket-fetch.ts brings objects onto the host.
import type { BucketSettings } from "../context.js";
import { OffloadError } from "../errors.js";
import { outputsFailed, type Reporter } from "../events.js";
import type { RecordView, RunRecord } from "../runs/record.js";
import type { RecordWriter } from "../runs/record-writer.js";
import {
  type BucketUrl,
  buildListedStatScript,
  buildUploadScript,
  createPresigner,
  type FileStat,
  formatObjectUrl,
  NO_PYTHON_EXIT,
  parseBucketUrl,
  parseObjectUrl,
  parseTransferReport,
  planResultsUpload,
  type ResultFile,
  resolveStorageAccess,
  splitListedStats,
} from "../storage/index.js";
import { buildListingScript, parseListing } from "../sync/download-listing.js";
import { planDownloads } from "../sync/download-plan.js";
import type { Transport } from "../transport/types.js";
import { laterRunGuard } from "./download-guard.js";

type Results = NonNullable<RecordView["results"]>;

/**
 * Reads the keys of every bucket the run names before anything connects, so a missing key fails the run
 * having changed nothing; returns the record's `results` (no objects yet) when there is a results URL.
 */
export function checkBucketAccess(
  settings: BucketSettings,
  runId: string,
): RunRecord["results"] | undefined {
  const options = { endpoint: settings.storage.endpoint, region: settings.storage.region };
  for (const input of settings.inputs)
    resolveStorageAccess(parseObjectUrl(input.url).bucket, options);
  if (!settings.results) return undefined;
  const bucket = parseBucketUrl(settings.results.url);
  const access = resolveStorageAccess(bucket, options);
  return {
    url: formatObjectUrl(bucket, `${bucket.prefix}${runId}/`),
    ...(settings.storage.endpoint ? { endpoint: access.origin } : {}),
    ...(settings.storage.region ? { region: access.region } : {}),
    objects: [],
  };
}

/** The signer of the record's results bucket, and the bucket as configured (the run id taken off). */
export async function openResults(results: Results, runId: string) {
  const parsed = parseBucketUrl(results.url);
  const suffix = `${runId}/`;
  if (!parsed.prefix.endsWith(suffix))
    throw new OffloadError(
      "E_STORAGE",
      `The run's results URL ${results.url} does not end in its id.`,
      {
        hint: "run.json was edited: restore its results.url.",
      },
    );
  const bucket: BucketUrl = { ...parsed, prefix: parsed.prefix.slice(0, -suffix.length) };
  const access = resolveStorageAccess(bucket, {
    endpoint: results.endpoint,
    region: results.region,
  });
  return { bucket, presign: await createPresigner(access) };
}

export function pythonMissing(transport: Transport, what: string): OffloadError {
  return new OffloadError("E_STORAGE", `${transport.label} has no python3 to ${what}.`, {
    hint: "Bucket transfers run Python's standard library on the remote machine: install python3 there.",
  });
}

/**
 * The files the download rules match now below the remote dir, with their size, mtime and inode: the
 * listing and the stats in one round trip (a checkpoint looks three times; each look was two).
 */
export async function listRuleMatches(
  transport: Transport,
  record: Pick<RecordView, "id" | "download" | "target">,
  onlyEvery = false,
): Promise<Map<string, FileStat>> {
  const remoteDir = record.target.remoteDir;
  const rules = onlyEvery ? record.download.filter((rule) => rule.every) : record.download;
  const plan = planDownloads(rules);
  // Nothing goes to the bucket as this run's from a dir another run has used since (download-guard.ts).
  const guard = laterRunGuard(record.id, remoteDir, transport.label);
  const listed = await transport.exec(
    buildListedStatScript(remoteDir, buildListingScript(remoteDir, plan, false, guard.lines)),
  );
  if (listed.connectionFailed) throw transport.explain(listed);
  const refused = guard.refusal(listed.stderr);
  if (refused !== undefined) throw refused;
  const { records, stats } = splitListedStats(listed.stdout);
  const listing = parseListing(records, plan);
  const paths = new Set(listing.files);
  for (const remotePath of listing.mapped.values())
    if (remotePath.startsWith(`${remoteDir}/`)) paths.add(remotePath.slice(remoteDir.length + 1));
  if (paths.size === 0) return new Map();
  if (listed.code === NO_PYTHON_EXIT) throw pythonMissing(transport, "list the results");
  // The stats are keyed as the listing printed each path: `./x` for a glob's match, absolute for a
  // mapped rule's file.
  const found = new Map<string, FileStat>();
  for (const [printed, stat] of stats) {
    const path = printed.startsWith("./")
      ? printed.slice(2)
      : printed.startsWith(`${remoteDir}/`)
        ? printed.slice(remoteDir.length + 1)
        : undefined;
    if (path !== undefined && paths.has(path)) found.set(path, stat);
  }
  return found;
}

/**
 * Puts `files` (paths relative to the remote dir) from the host into the results bucket under
 * `<prefix>/<run id>/` and records each object; an object put again replaces its entry. A file written
 * while it was read is not put (its object keeps its last whole version): a checkpoint (`changedLater`)
 * takes it at its next look, the end of the run fails on it. Returns what was put, by path.
 */
export async function pushResults(
  transport: Transport,
  writer: RecordWriter,
  files: readonly ResultFile[],
  options: { changedLater?: boolean } = {},
): Promise<{ sent: number; bytes: number; paths: Set<string> }> {
  const { record } = writer;
  const results = record.results;
  if (!results || files.length === 0) return { sent: 0, bytes: 0, paths: new Set() };
  const { bucket, presign } = await openResults(results, record.id);
  const plan = await planResultsUpload(presign, bucket, record.id, files);
  const result = await transport.exec(buildUploadScript(record.target.remoteDir), {
    stdin: JSON.stringify(plan),
  });
  if (result.connectionFailed) throw transport.explain(result);
  if (result.code === NO_PYTHON_EXIT)
    throw pythonMissing(transport, "put the results into the bucket");
  const parsed = parseTransferReport(result.stdout);
  const uploaded = new Map(results.objects.map((object) => [object.path, object]));
  for (const object of parsed.uploaded) uploaded.set(object.path, object);
  // Saved with the run's next save (the checkpoint's count, the end of the run).
  writer.set({
    results: {
      ...results,
      objects: [...uploaded.values()].sort((a, b) => a.path.localeCompare(b.path)),
    },
  });
  const failed = parsed.failed[0] ?? (options.changedLater ? undefined : parsed.changed[0]);
  if (result.code !== 0 || failed) {
    throw new OffloadError(
      "E_STORAGE",
      `Could not put ${failed?.what ?? "the results"} into ${results.url}: ${failed?.error ?? result.stderr.trim()}.`,
      {
        hint: `The files are still on the host: \`offload attach ${record.id}\` tries again.`,
      },
    );
  }
  return {
    sent: parsed.uploaded.length,
    bytes: parsed.uploaded.reduce((sum, object) => sum + object.size, 0),
    paths: new Set(parsed.uploaded.map((object) => object.path)),
  };
}

/** The end-of-run push: every match of the download rules goes to the bucket, not through this machine. */
export async function pushAllResults(
  transport: Transport,
  writer: RecordWriter,
  report: Reporter,
): Promise<void> {
  const { record } = writer;
  const started = performance.now();
  const matches = await listRuleMatches(transport, record);
  const files = [...matches].map(([path, stat]) => ({ path, size: stat.size }));
  const { sent, bytes } = await pushResults(transport, writer, files);
  writer.set({
    phases: { ...record.phases, download: Math.round(performance.now() - started) },
  });
  report({
    type: "results-pushed",
    runId: record.id,
    files: sent,
    bytes,
    url: record.results?.url ?? "",
    from: transport.label,
  });
}

/**
 * The end of a run with `results:`: pushes, and on failure records it as outputs not delivered (exit
 * 205 for a job that succeeded), as a failed download is. A lost host has nothing to push from.
 */
export async function deliverResults(
  transport: Transport,
  writer: RecordWriter,
  report: Reporter,
): Promise<void> {
  if (writer.record.status === "lost") return;
  try {
    await pushAllResults(transport, writer, report);
  } catch (error) {
    if (!(error instanceof OffloadError)) throw error;
    writer.set({ error: { code: "E_DOWNLOAD", message: error.message } });
    report(outputsFailed(error));
  }
}
