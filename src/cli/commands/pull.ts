// `offload pull RUN [--to DIR]`: brings the objects a run put into a bucket home, checksums checked.
import { relative } from "node:path";
import { createStore } from "../../create.js";
import { OffloadError } from "../../errors.js";
import { findProjectDir } from "../../project.js";
import type { RunStore } from "../../runs/store.js";
import { pullResults } from "../../storage/pull.js";
import { countOf, type Output } from "../render.js";

export interface PullFlags {
  to?: string;
  json?: boolean;
}

export async function pullCommand(
  store: RunStore,
  run: string | undefined,
  flags: PullFlags,
  out: Output,
): Promise<number> {
  const id = await store.resolveId(run);
  const record = await store.load(id);
  if (!record.results) {
    throw new OffloadError("E_USAGE", `Run ${id} put nothing into a bucket.`, {
      hint: "Only runs with `results: s3://…` (or gs://) have objects to pull; `offload attach` brings the others' outputs home.",
    });
  }
  const toDir = flags.to ?? store.artifactsDir(id);
  const pulled = await pullResults(record.results, toDir);
  if (flags.json) {
    out.stdout.write(`${JSON.stringify({ id, to: toDir, objects: pulled })}\n`);
    return 0;
  }
  const fetched = pulled.filter((p) => !p.skipped);
  const bytes = fetched.reduce((sum, p) => sum + p.size, 0);
  const where = relative(process.cwd(), toDir) || ".";
  out.stdout.write(
    `Pulled ${fetched.length} of ${countOf(pulled.length, "object")} (${countOf(bytes, "byte")}) of run ${id} into ${where}; ${pulled.length - fetched.length} already there.\n`,
  );
  return 0;
}

export async function pullAction(
  out: Output,
  run: string | undefined,
  flags: PullFlags,
): Promise<number> {
  return pullCommand(createStore(findProjectDir(process.cwd())), run, flags, out);
}
