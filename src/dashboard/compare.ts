// Compare: several runs' curves overlaid per metric, their final and best values, and what differs
// between them (command arguments, env names, target, git state). Pure: records and summaries in.
import { buildReportData, type ReportChart } from "../report/report-data.js";
import type { RunSummary } from "../report/summary.js";
import type { RunRecord } from "../runs/record.js";

export interface Difference {
  what: string;
  /** One value a run, in the order the runs were picked; null where a run has none. */
  values: (string | null)[];
}

export interface Comparison {
  runs: { id: string; status: string; target: string }[];
  charts: ReportChart[];
  /** metric name → one row a run. */
  values: { name: string; goal: string; final: (number | null)[]; best: (number | null)[] }[];
  differences: Difference[];
}

const finite = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n : null);

export function compareRuns(
  records: readonly RunRecord[],
  summaries: readonly RunSummary[],
): Comparison {
  const data = buildReportData(summaries, new Date().toISOString());
  const names = [...new Set(summaries.flatMap((s) => s.metrics.map((m) => m.name)))];
  return {
    runs: records.map((r) => ({ id: r.id, status: r.status, target: r.target.label })),
    charts: data.charts,
    values: names.map((name) => {
      const metrics = summaries.map((s) => s.metrics.find((m) => m.name === name));
      return {
        name,
        goal: metrics.find((m) => m)?.goal ?? "max",
        final: metrics.map((m) => finite(m?.final)),
        best: metrics.map((m) => finite(m?.best)),
      };
    }),
    differences: findDifferences(records),
  };
}

/** Only what is not the same in every run: the rest would bury the one argument that changed. */
export function findDifferences(records: readonly RunRecord[]): Difference[] {
  const rows: Difference[] = [];
  const add = (what: string, values: (string | null)[]) => {
    if (new Set(values).size > 1) rows.push({ what, values });
  };
  const longest = Math.max(0, ...records.map((r) => r.command.length));
  const options = records.map(readOptions);
  const optionNames = [...new Set(options.flatMap((o) => [...o.keys()]))];
  if (optionNames.length > 0 && records.every((r) => sameProgram(r, records[0])))
    for (const name of optionNames)
      add(
        `argument ${name}`,
        options.map((o) => o.get(name) ?? null),
      );
  else
    for (let i = 0; i < longest; i++)
      add(
        `argument ${i + 1}`,
        records.map((r) => r.command[i] ?? null),
      );
  add(
    "command",
    records.map((r) => r.command.join(" ")),
  );
  add(
    "target",
    records.map((r) => r.target.label),
  );
  const envNames = [...new Set(records.flatMap((r) => r.envNames))].sort();
  for (const name of envNames)
    add(
      `env ${name}`,
      records.map((r) => (r.envNames.includes(name) ? "set" : null)),
    );
  add(
    "git commit",
    records.map((r) => r.git?.commit ?? null),
  );
  add(
    "git branch",
    records.map((r) => r.git?.branch ?? null),
  );
  add(
    "git dirty",
    records.map((r) => (r.git === undefined ? null : String(r.git.dirty))),
  );
  return rows;
}

function sameProgram(record: RunRecord, first: RunRecord | undefined): boolean {
  const program = (r: RunRecord) => r.command.filter((a) => !a.startsWith("-")).slice(0, 2);
  return first !== undefined && program(record).join(" ") === program(first).join(" ");
}

/** `--epochs 8`, `--lr=0.1`, `--fast` as name → value, so runs line up by option, not position. */
function readOptions(record: RunRecord): Map<string, string> {
  const options = new Map<string, string>();
  const args = record.command;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (!arg.startsWith("-") || arg === "-" || arg === "--") continue;
    const eq = arg.indexOf("=");
    if (eq > 0) {
      options.set(arg.slice(0, eq), arg.slice(eq + 1));
      continue;
    }
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith("-")) {
      options.set(arg, next);
      i++;
    } else options.set(arg, "true");
  }
  return options;
}
