// Objects from a bucket onto the host (the `inputs:` before the job starts, a checkpoint put back from
// the results bucket): URLs signed here, the host's Python program fetches them and never sees a key.
import type { BucketSettings } from "../context.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import type { RecordView, RunRecord } from "../runs/record.js";
import {
  type BucketUrl,
  buildFetchInputsScript,
  createPresigner,
  formatObjectUrl,
  type InputEntry,
  NO_PYTHON_EXIT,
  type Presign,
  parseObjectUrl,
  parseTransferReport,
  planInputs,
  resolveStorageAccess,
} from "../storage/index.js";
import type { Transport } from "../transport/types.js";
import { openResults, pythonMissing } from "./bucket.js";

/** What run.json keeps of the inputs: where each landed and whether the host's cache had it. */
export type RecordedInput = NonNullable<RunRecord["inputs"]>[number];

/** Fetches the inputs through the host's ETag cache into the remote dir, before the job starts. */
export async function fetchRunInputs(
  transport: Transport,
  remoteDir: string,
  settings: BucketSettings,
  report: Reporter,
): Promise<RecordedInput[]> {
  const options = { endpoint: settings.storage.endpoint, region: settings.storage.region };
  const entries: InputEntry[] = settings.inputs.map((input) => {
    const { bucket, key } = parseObjectUrl(input.url);
    return { url: input.url, bucket, key, to: input.to };
  });
  const signers = new Map<string, Promise<Presign>>();
  const presignFor = (bucket: BucketUrl) => {
    const name = `${bucket.scheme}://${bucket.bucket}`;
    let signer = signers.get(name);
    if (!signer) {
      signer = createPresigner(resolveStorageAccess(bucket, options));
      signers.set(name, signer);
    }
    return signer;
  };
  const plan = await planInputs(presignFor, entries);
  const result = await transport.exec(buildFetchInputsScript(remoteDir), {
    stdin: JSON.stringify(plan),
  });
  if (result.connectionFailed) throw transport.explain(result);
  if (result.code === NO_PYTHON_EXIT) throw pythonMissing(transport, "fetch the inputs");
  const parsed = parseTransferReport(result.stdout);
  const failed = parsed.failed[0];
  if (result.code !== 0 || failed) {
    throw new OffloadError(
      "E_STORAGE",
      `Could not fetch input ${failed?.what ?? "(unknown)"} on ${transport.label}: ${failed?.error ?? result.stderr.trim()}.`,
      { hint: "Check the object exists and the keys here may read it; nothing was started." },
    );
  }
  for (const { url, dest, etag, cached, bytes } of parsed.inputs)
    report({ type: "input-fetched", url, dest, etag, cached, bytes });
  return parsed.inputs.map(({ url, dest, etag, size, cached, bytes }) => ({
    url,
    dest,
    etag,
    size,
    cached,
    bytes,
  }));
}

/** Fetches recorded result objects back onto the host at their paths (a checkpoint put back). */
export async function fetchObjectsToHost(
  transport: Transport,
  record: Pick<RecordView, "id" | "results" | "target">,
  objects: readonly { path: string; key: string }[],
): Promise<void> {
  const results = record.results;
  if (!results) return;
  const { bucket, presign } = await openResults(results, record.id);
  const entries: InputEntry[] = objects.map((object) => ({
    url: formatObjectUrl(bucket, object.key),
    bucket: { ...bucket, prefix: "" },
    key: object.key,
    to: object.path,
  }));
  const plan = await planInputs(async () => presign, entries);
  const result = await transport.exec(buildFetchInputsScript(record.target.remoteDir), {
    stdin: JSON.stringify(plan),
  });
  if (result.connectionFailed) throw transport.explain(result);
  const failed = parseTransferReport(result.stdout).failed[0];
  if (result.code !== 0 || failed)
    throw new OffloadError(
      "E_STORAGE",
      `Could not put ${failed?.what ?? "the checkpoint"} back on ${transport.label}: ${failed?.error ?? result.stderr.trim()}.`,
      { hint: "Check the objects are still in the bucket (`offload pull` reads them too)." },
    );
}
