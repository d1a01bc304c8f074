// `offload stop SWEEP` asks the `offload sweep` that runs the grid to start no more of it: a mark in
// `.offload/sweeps/<id>/`, beside the runs' folders (a folder under runs/ would read as a damaged run),
// looked at before each queued run starts. Written before the live runs are stopped, so a worker
// freed by that stop already sees it.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isRunId } from "./id.js";
import type { RunStore } from "./store.js";

function markPath(store: RunStore, sweepId: string): string {
  // The id comes from a record's tag: only an id offload made becomes a path.
  if (!isRunId(sweepId)) throw new Error(`${JSON.stringify(sweepId)} is not a sweep id`);
  return join(dirname(store.root), "sweeps", sweepId, "stop-requested");
}

export async function requestSweepStop(store: RunStore, sweepId: string): Promise<void> {
  const path = markPath(store, sweepId);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${new Date().toISOString()}\n`);
}

export function isSweepStopRequested(store: RunStore, sweepId: string): boolean {
  return existsSync(markPath(store, sweepId));
}
