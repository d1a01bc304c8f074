// Puts the last checkpoint back on the host before an attempt resumes: the files the checkpoint rules
// brought home (or put in the bucket) go back to where the job wrote them.
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildPutFileScript } from "../remote/retry.js";
import type { RecordWriter } from "../runs/record-writer.js";
import type { RunStore } from "../runs/store.js";
import { planDownloads } from "../sync/download-plan.js";
import { buildRsyncFilesArgv } from "../sync/rsync.js";
import type { SyncTool } from "../sync/upload.js";
import { runProcess } from "../transport/process.js";
import type { Transport } from "../transport/types.js";
import { fetchObjectsToHost } from "./bucket-fetch.js";

export interface RestoreRequest {
  transport: Transport;
  store: RunStore;
  /** The run's record: its download rules and results say what goes back. */
  writer: RecordWriter;
  report: Reporter;
  tool: SyncTool;
  /** `results.every`: with it every download rule is a checkpoint rule. */
  resultsEvery?: number | undefined;
}

/** Files the checkpoint rules brought home (or put in the bucket) go back to where the job wrote them. */
export async function restoreCheckpoint(request: RestoreRequest): Promise<void> {
  const { transport, store, report } = request;
  const { record } = request.writer;
  const rules = record.download.filter((rule) => rule.every || request.resultsEvery);
  if (rules.length === 0) return;
  const plan = planDownloads(rules);
  if (record.results) {
    const objects = record.results.objects.filter((o) => plan.globs.some((g) => g.match(o.path)));
    if (objects.length === 0) return;
    await fetchObjectsToHost(transport, record, objects);
    report({
      type: "checkpoint-restored",
      files: objects.length,
      from: "bucket",
      target: transport.label,
    });
    return;
  }
  const root = store.artifactsDir(record.id);
  const files = (await listArtifacts(root)).filter((path) => plan.globs.some((g) => g.match(path)));
  if (files.length === 0) return;
  await mkdir(root, { recursive: true });
  if (request.tool === "rsync") {
    const shell = transport.remoteShell();
    const argv = buildRsyncFilesArgv(shell, ".", shell.remotePath(record.target.remoteDir));
    const result = await runProcess(argv, {
      cwd: root,
      stdin: files.map((file) => `${file}\0`).join(""),
    });
    if (result.code !== 0) throw restoreError(transport, result.stderr);
  } else {
    // Without rsync each file goes as its bytes on stdin, into a temp file renamed into place.
    for (const file of files) {
      const result = await transport.exec(buildPutFileScript(record.target.remoteDir, file), {
        stdin: await readFile(join(root, file)),
      });
      if (result.code !== 0) throw restoreError(transport, result.stderr);
    }
  }
  report({
    type: "checkpoint-restored",
    files: files.length,
    from: "home",
    target: transport.label,
  });
}

function restoreError(transport: Transport, stderr: string): OffloadError {
  return new OffloadError(
    "E_SYNC",
    `Could not put the checkpoint back on ${transport.label}: ${stderr.trim()}`,
    {
      hint: "The last attempt's files are in .offload/runs/<id>/artifacts; check the host's disk.",
    },
  );
}

async function listArtifacts(root: string): Promise<string[]> {
  const names = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return names
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1));
}
