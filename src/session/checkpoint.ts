// Checkpoints while the job runs (`every:` on download rules and on `results`): files the rules match are
// fetched home (or put into the bucket) only when changed, and only once they hold still: the same size
// and mtime in two looks a moment apart, then the same again after the copy (a file rewritten during the
// copy is taken at the next checkpoint instead). A file whose inode changed between looks was replaced
// by rename (write-then-rename, as frameworks save): each version is whole once it has its name, so it
// need not hold still, and a copy of it counts even when the next version arrived meanwhile. A job that
// renames a new checkpoint in every second would otherwise never hold still for the two looks.
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Reporter } from "../events.js";
import type { RecordView } from "../runs/record.js";
import type { RecordWriter } from "../runs/record-writer.js";
import type { RunStore } from "../runs/store.js";
import { downloadArtifacts } from "../sync/download.js";
import { planDownloads } from "../sync/download-plan.js";
import type { SyncTool } from "../sync/upload.js";
import { sleep } from "../transport/backoff.js";
import type { Transport } from "../transport/types.js";
import { listRuleMatches, pushResults } from "./bucket.js";

type FileStat = { size: number; mtimeNs: number; ino?: number };

export interface CheckpointRequest {
  transport: Transport;
  store: RunStore;
  writer: RecordWriter;
  report: Reporter;
  projectDir: string;
  tool: SyncTool;
  /** `results.every` in seconds: push to the bucket (all download rules) this often. */
  resultsEvery?: number | undefined;
}

/** Seconds between the two looks that prove a file holds still. */
const SETTLE_MS = 1000;

const same = (a: FileStat | undefined, b: FileStat | undefined) =>
  a !== undefined &&
  b !== undefined &&
  a.size === b.size &&
  a.mtimeNs === b.mtimeNs &&
  a.ino === b.ino;

/** `later` is another file put in `earlier`'s place by rename: a new inode under the same name. */
const renamedOver = (earlier: FileStat | undefined, later: FileStat | undefined) =>
  earlier?.ino !== undefined && later?.ino !== undefined && earlier.ino !== later.ino;

/** Whole to copy now: it held still between the looks, or arrived whole by rename between them. */
const settled = (first: FileStat, second: FileStat | undefined) =>
  same(first, second) || renamedOver(first, second);

/** The interval of the checkpoints in seconds, or undefined when no rule asks for them. */
export function checkpointInterval(
  record: Pick<RecordView, "download" | "results">,
  resultsEvery?: number,
): number | undefined {
  const everies = record.download.flatMap((rule) => (rule.every ? [rule.every] : []));
  if (record.results && resultsEvery) everies.push(resultsEvery);
  return everies.length === 0 ? undefined : Math.min(...everies);
}

/**
 * Copies the files into a staging dir beside the artifacts; `place` moves the named ones into the
 * artifacts dir only once the after-copy look proved them whole, so a copy torn by a rewrite never
 * replaces the last good one. `discard` removes what was not placed.
 */
async function stageHome(request: CheckpointRequest, paths: string[]) {
  const { store, transport } = request;
  const { record } = request.writer;
  const staging = join(store.runDir(record.id), `.checkpoint-${process.pid}`);
  const discard = () => rm(staging, { recursive: true, force: true });
  try {
    await downloadArtifacts({
      transport,
      remoteDir: record.target.remoteDir,
      plan: planDownloads(paths.map((pattern) => ({ kind: "glob" as const, pattern }))),
      artifactsDir: staging,
      projectDir: request.projectDir,
      tool: request.tool,
    });
  } catch (error) {
    await discard();
    throw error;
  }
  const place = async (whole: readonly string[]) => {
    for (const path of whole) {
      const target = join(store.artifactsDir(record.id), path);
      await mkdir(dirname(target), { recursive: true });
      await rename(join(staging, path), target).catch(() => {});
    }
  };
  return { place, discard };
}

/** One checkpoint: what changed since the last one and holds still goes home or to the bucket. */
async function takeCheckpoint(
  request: CheckpointRequest,
  taken: Map<string, FileStat>,
): Promise<number> {
  const { transport } = request;
  const { record } = request.writer;
  // With `results:` checkpoints go where the outputs go: the bucket. `results.every` takes every rule.
  const toBucket = record.results !== undefined;
  const onlyEvery = request.resultsEvery === undefined;
  const first = await listRuleMatches(transport, record, onlyEvery);
  const changed = [...first].filter(([path, stat]) => !same(taken.get(path), stat));
  if (changed.length === 0) return 0;
  await sleep(SETTLE_MS);
  const second = await listRuleMatches(transport, record, onlyEvery);
  // Each with its stat at the second look: what the copy that follows starts from.
  const still = changed.flatMap(([path, stat]): [string, FileStat][] => {
    const now = second.get(path);
    return now !== undefined && settled(stat, now) ? [[path, now]] : [];
  });
  if (still.length === 0) return 0;
  const paths = still.map(([path]) => path);
  // The bucket's staging is the upload itself (storage/upload-program.ts): a file written while it was
  // read is never put in place of its last whole copy, and is not counted here.
  const pushed = toBucket
    ? await pushResults(
        transport,
        request.writer,
        still.map(([path, s]) => ({ path, size: s.size })),
        { changedLater: true },
      )
    : undefined;
  const staged = toBucket ? undefined : await stageHome(request, paths);
  try {
    // A file rewritten in place while it was copied is not counted (nor put home: the last good copy
    // stays); the next checkpoint takes it again. One renamed over meanwhile is: the copy read one
    // whole version or the other.
    const after = await listRuleMatches(transport, record, onlyEvery);
    const whole = still.filter(([path, stat]) => {
      if (pushed !== undefined && !pushed.paths.has(path)) return false;
      const now = after.get(path);
      return same(now, stat) || renamedOver(stat, now);
    });
    await staged?.place(whole.map(([path]) => path));
    for (const [path, stat] of whole) taken.set(path, stat);
    return whole.length;
  } finally {
    await staged?.discard();
  }
}

/**
 * Runs checkpoints every interval until `stop()`; a checkpoint that fails (a dropped link) is skipped,
 * the next one tries again. Returns undefined when no rule says `every`.
 */
export function startCheckpoints(
  request: CheckpointRequest,
): { stop: () => Promise<void> } | undefined {
  const interval = checkpointInterval(request.writer.record, request.resultsEvery);
  if (interval === undefined) return undefined;
  const { report } = request;
  const { record } = request.writer;
  const ended = new AbortController();
  const taken = new Map<string, FileStat>();
  const loop = (async () => {
    for (;;) {
      await sleep(interval * 1000, ended.signal).catch(() => {});
      if (ended.signal.aborted) return;
      try {
        const files = await takeCheckpoint(request, taken);
        if (files === 0 || ended.signal.aborted) continue;
        const at = new Date().toISOString();
        await request.writer.update({
          checkpoint: { at, count: (record.checkpoint?.count ?? 0) + 1, files: taken.size },
        });
        report({ type: "checkpoint", files, at, to: record.results ? "bucket" : "home" });
      } catch {
        // The follow reports a dropped link; this checkpoint is skipped, the next one tries again.
      }
    }
  })();
  return {
    stop: async () => {
      ended.abort();
      await loop;
    },
  };
}
