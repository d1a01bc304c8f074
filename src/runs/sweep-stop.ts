// `offload stop SWEEP` asks the `offload sweep` that runs the grid to start no more of it: a mark in
// `.offload/sweeps/<id>/`, beside the runs' folders (a folder under runs/ would read as a damaged run),
// looked at before each queued run starts. Written before the live runs are stopped, so a worker
// freed by that stop already sees it.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RunStore } from "./store.js";
import { sweepDir } from "./sweep-plan.js";

function markPath(store: RunStore, sweepId: string): string {
  return join(sweepDir(store, sweepId), "stop-requested");
}

export async function requestSweepStop(store: RunStore, sweepId: string): Promise<void> {
  const path = markPath(store, sweepId);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${new Date().toISOString()}\n`);
}

export function isSweepStopRequested(store: RunStore, sweepId: string): boolean {
  return existsSync(markPath(store, sweepId));
}
