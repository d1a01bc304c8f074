// `offload ps` and `offload logs`: read the local run store.
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { RunRecord } from "../../runs/record.js";
import type { DamagedRun, RunStore } from "../../runs/store.js";
import type { Output } from "../render.js";

function duration(record: RunRecord): string {
  const ms =
    record.phases.total ??
    (record.finishedAt
      ? Date.parse(record.finishedAt) - Date.parse(record.startedAt)
      : Date.now() - Date.parse(record.startedAt));
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** Rows of `offload ps`, newest last, like a log. */
export function formatRunTable(records: readonly RunRecord[]): string {
  const rows = records.map((r) => [
    r.id,
    r.target.label,
    r.status,
    r.exitCode === null ? "-" : String(r.exitCode),
    duration(r),
    r.command.join(" "),
  ]);
  const header = ["RUN", "TARGET", "STATUS", "EXIT", "TIME", "COMMAND"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const format = (row: string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ");
  return [format(header), ...rows.map(format)].join("\n");
}

export async function listRuns(
  store: RunStore,
  out: Output,
  options: { json?: boolean },
): Promise<number> {
  const { records, damaged } = await store.survey();
  if (options.json) out.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  else if (records.length === 0 && damaged.length === 0)
    out.stderr.write(
      "No runs yet in this project. Start one with `offload run --host <host> -- <command>`.\n",
    );
  else out.stdout.write(`${formatRunTable(records)}\n`);
  writeDamaged(damaged, store.root, out);
  return 0;
}

/** A damaged record is shown, never read: on stderr, so `--json` stays a list of good records. */
function writeDamaged(damaged: readonly DamagedRun[], root: string, out: Output): void {
  if (damaged.length === 0) return;
  for (const run of damaged) out.stderr.write(`${run.id}  damaged  ${run.problem}\n`);
  out.stderr.write(
    `hint: offload cannot trust ${damaged.length === 1 ? "this record" : "these records"}; look at run.json in ${root}/<id>/, or remove the folder if the run no longer matters.\n`,
  );
}

export async function printLog(
  store: RunStore,
  out: Output,
  id: string | undefined,
): Promise<number> {
  const resolved = await store.resolveId(id);
  await store.load(resolved); // a damaged record is an error here too, never a silent empty log
  await pipeline(createReadStream(store.logPath(resolved)), out.stdout, { end: false }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    },
  );
  return 0;
}
