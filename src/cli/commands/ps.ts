// `offload ps`: reads the local run store, first asking the hosts of runs recorded as running how they
// stand (unless --offline).
import type { Backend } from "../../backends/types.js";
import { findProjectDir } from "../../project.js";
import { formatDuration, formatMinutes } from "../../report/format.js";
import { jobDurationMs, type RunRecord } from "../../runs/record.js";
import { type DamagedRun, openRunStore, type RunStore } from "../../runs/store.js";
import { refreshRuns, type Unknown } from "../../session/refresh.js";
import type { Output } from "../render.js";

function duration(record: RunRecord): string {
  // The host's stamps where the record has them: when someone followed the run does not matter.
  const running = record.job?.startedAt;
  const ms =
    jobDurationMs(record) ??
    (record.status === "running" && running !== undefined
      ? Date.now() - Date.parse(running)
      : undefined) ??
    record.phases.total ??
    (record.finishedAt
      ? Date.parse(record.finishedAt) - Date.parse(record.startedAt)
      : Date.now() - Date.parse(record.startedAt));
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s` : formatMinutes(s);
}

/** How long `ps` waits for a host's answer before it shows its runs as unknown. */
export const PS_HOST_TIMEOUT_MS = 8000;

/** A table cell on one line: newlines, tabs and other control characters shown as escapes. */
export function escapeControl(text: string): string {
  // Most cells have none, and a test costs half the replace (`ps` of 1,000 runs: 10,000 cells).
  if (!/\p{Cc}/u.test(text)) return text;
  return text.replace(/\p{Cc}/gu, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r" };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

function formatTags(tags: RunRecord["tags"]): string {
  const pairs = Object.entries(tags ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length === 0 ? "-" : pairs.join(",");
}

/** A run whose outputs are still on its host (a killed offload, nobody followed it) says so. */
function statusText(record: RunRecord): string {
  return record.outputsPending ? `${record.status} (outputs not home)` : record.status;
}

/** Rows of `offload ps`, newest last, like a log. */
export function formatRunTable(
  records: readonly RunRecord[],
  unknown: Unknown = new Map(),
  now: number = Date.now(),
): string {
  // A CKPT column (age of the last checkpoint) only where a run took checkpoints (`every:`).
  const checkpoints = records.some((r) => r.checkpoint !== undefined);
  const checkpoint = (r: RunRecord) =>
    r.checkpoint === undefined
      ? "-"
      : `${formatDuration(Math.max(0, now - Date.parse(r.checkpoint.at)))} ago`;
  // A COST column only where a run had a priced cloud machine: other tables stay as they were.
  const costs = records.some((r) => r.machine?.costUsd !== undefined);
  const cost = (r: RunRecord) =>
    r.machine?.costUsd === undefined ? "-" : `$${r.machine.costUsd.toFixed(2)}`;
  const rows = records.map((r) =>
    [
      r.id,
      r.name ?? "-",
      r.target.label,
      unknown.has(r.id) ? "unknown" : statusText(r),
      r.exitCode === null ? "-" : String(r.exitCode),
      duration(r),
      ...(costs ? [cost(r)] : []),
      ...(checkpoints ? [checkpoint(r)] : []),
      formatTags(r.tags),
      r.command.join(" "),
    ].map(escapeControl),
  );
  const header = [
    "RUN",
    "NAME",
    "TARGET",
    "STATUS",
    "EXIT",
    "TIME",
    ...(costs ? ["COST"] : []),
    ...(checkpoints ? ["CKPT"] : []),
    "TAGS",
    "COMMAND",
  ];
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
  options: { json?: boolean; offline?: boolean },
  backendFor: (record: RunRecord) => Promise<Backend>,
): Promise<number> {
  const surveyed = await store.survey();
  const { damaged } = surveyed;
  const { records, unknown } = options.offline
    ? { records: surveyed.records, unknown: new Map<string, string>() }
    : await refreshRuns({
        store,
        records: surveyed.records,
        backendFor,
        timeoutMs: PS_HOST_TIMEOUT_MS,
      });
  if (options.json) {
    // Unknown is what ps saw, not what the record says: shown, never saved.
    const shown = records.map((r) => {
      const why = unknown.get(r.id);
      return why === undefined ? r : { ...r, status: "unknown", unknownReason: why };
    });
    out.stdout.write(shown.map((r) => `${JSON.stringify(r)}\n`).join(""));
  } else if (records.length === 0 && damaged.length === 0)
    out.stderr.write(
      "No runs yet in this project. Start one with `offload run --host <host> -- <command>`.\n",
    );
  else {
    out.stdout.write(`${formatRunTable(records, unknown)}\n`);
    for (const [id, why] of unknown)
      out.stderr.write(`run ${id}: status unknown: ${escapeControl(why)}\n`);
    for (const r of records)
      if (r.outputsPending && !unknown.has(r.id))
        out.stderr.write(
          `run ${r.id}: its outputs are still on ${escapeControl(r.target.label)}: \`offload attach ${r.id}\` brings them home.\n`,
        );
  }
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

export async function psAction(
  out: Output,
  flags: { json?: boolean; offline?: boolean; sshConfig?: string },
): Promise<number> {
  // Settings and backends (config schemas, every transport) are loaded only for a run that is still
  // running: a store of finished runs is listed without them.
  const backendFor = async (record: RunRecord) => {
    const [{ load, flagsForRecord }, { createBackendFor }] = await Promise.all([
      import("../settings.js"),
      import("../../create.js"),
    ]);
    const { settings } = await load(
      flagsForRecord(record, flags.sshConfig ? { sshConfig: flags.sshConfig } : {}),
    );
    return createBackendFor(settings);
  };
  const store = openRunStore(findProjectDir(process.cwd()));
  return listRuns(store, out, flags, backendFor);
}
