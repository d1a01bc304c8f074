// Parses the JSON lines the remote programs print (a remote reply: checked at the edge).

export interface UploadedObject {
  path: string;
  key: string;
  size: number;
  sha256: string;
}

/** An `inputs:` object the remote program placed: as the run record keeps it (runs/record.ts). */
export interface FetchedInput {
  url: string;
  dest: string;
  etag: string;
  size: number;
  /** Found in the host's ETag cache: nothing was transferred. */
  cached: boolean;
  /** Bytes transferred. */
  bytes: number;
}

export interface TransferReport {
  uploaded: UploadedObject[];
  inputs: FetchedInput[];
  /** Parts a resumed multipart upload found in the bucket already, by path. */
  skippedParts: Record<string, number[]>;
  failed: { what: string; error: string }[];
  /** Files written while they were read: not put, the object in the bucket left as it was. */
  changed: { what: string; error: string }[];
}

export function parseTransferReport(stdout: string): TransferReport {
  const report: TransferReport = {
    uploaded: [],
    inputs: [],
    skippedParts: {},
    failed: [],
    changed: [],
  };
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const text = (name: string) => String(event[name] ?? "");
    if (event.event === "uploaded") {
      report.uploaded.push({
        path: text("path"),
        key: text("key"),
        size: Number(event.size),
        sha256: text("sha256"),
      });
    } else if (event.event === "parts" && Array.isArray(event.skipped)) {
      report.skippedParts[text("path")] = event.skipped.map(Number);
    } else if (event.event === "input") {
      report.inputs.push({
        url: text("url"),
        dest: text("dest"),
        etag: text("etag"),
        size: Number(event.size),
        cached: event.cached === true,
        bytes: Number(event.bytes),
      });
    } else if (event.event === "failed") {
      report.failed.push({ what: text("path") || text("url"), error: text("error") });
    } else if (event.event === "changed") {
      report.changed.push({ what: text("path"), error: text("error") });
    }
  }
  return report;
}
