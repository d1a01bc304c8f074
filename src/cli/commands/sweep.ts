// `offload sweep --host a,b --param lr=1e-3,1e-4 -- python train.py --lr {lr}`: a grid of runs queued
// over hosts, a line each time a run changes state, then the sweep's table. Each run's log stays in
// its own record (`offload logs RUN`), off this terminal. Exits 0 when every run succeeded, else 1.
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import { createRunContext, createStore } from "../../create.js";
import { OffloadError } from "../../errors.js";
import type { Reporter } from "../../events.js";
import { resolveSecrets } from "../../remote/secrets.js";
import { formatTable } from "../../report/text.js";
import type { NodeTarget } from "../../session/nodes.js";
import {
  expandGrid,
  fillCommand,
  mergeParams,
  parseParam,
  runSweep,
  type SweepItem,
  type SweepState,
} from "../../session/sweep.js";
import { describeEvent, isNotice } from "../event-lines.js";
import { captureInterrupts } from "../interrupts.js";
import { eventJson } from "../json-lines.js";
import type { Output } from "../render.js";
import { load, requireHost, type TargetFlags } from "../settings.js";
import { splitNodeHosts } from "./run-nodes.js";

/** `--param a=1 --param a=2` would silently keep the last: refused, with the one-flag spelling. */
function refuseRepeatedParams(params: ReadonlyArray<[string, string[]]>): void {
  const seen = new Map<string, string[]>();
  for (const [name, values] of params) {
    const before = seen.get(name);
    if (before !== undefined)
      throw new OffloadError("E_USAGE", `--param ${name} is given twice.`, {
        hint: `Give all its values in one flag: \`--param ${name}=${[...before, ...values].join(",")}\`.`,
      });
    seen.set(name, values);
  }
}

export interface SweepFlags extends TargetFlags {
  param?: string[];
  secret?: string[];
  rebuildEnv?: boolean;
}

function describeParams(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
}

function describeState(item: SweepItem): string {
  const code = item.record?.exitCode;
  return `${item.state}${code === undefined || code === null ? "" : ` (exit ${code})`}`;
}

/** The sweep's table: one row a run, in grid order. */
export function formatSweepTable(items: readonly SweepItem[]): string {
  const names = [...new Set(items.flatMap((item) => Object.keys(item.params)))];
  const rows = items.map((item) => [
    String(item.index),
    ...names.map((name) => item.params[name] ?? ""),
    describeState(item),
    item.host ?? "",
    item.record?.id ?? item.error ?? "",
  ]);
  return formatTable(["#", ...names.map((n) => n.toUpperCase()), "STATE", "HOST", "RUN"], rows);
}

export const SWEEP_FAILED: ReadonlySet<SweepState> = new Set([
  "failed",
  "stopped",
  "lost",
  "error",
  "not started",
]);

/** The line that says a run's change: `[2/6] #1 lr=1e-3 bs=64: succeeded`. */
export function describeSweepChange(all: readonly SweepItem[], item: SweepItem): string {
  const done = all.filter((i) => i.state !== "queued" && i.state !== "running").length;
  return `[${done}/${all.length}] #${item.index} ${describeParams(item.params)}: ${describeState(item)}${item.state === "running" ? ` on ${item.host}` : ""}${item.error ? `: ${item.error}` : ""}`;
}

export async function sweepAction(
  out: Output,
  command: string[],
  flags: SweepFlags,
): Promise<number> {
  // Flags first, then offload.yaml's `sweep:` block for what they leave out.
  const { host: hostFlag, ...withoutHost } = flags;
  const base = await load(withoutHost);
  const block = base.settings.sweep;
  const template = command.length > 0 ? command : (block?.command ?? []);
  if (template.length === 0)
    throw new OffloadError("E_USAGE", "`offload sweep` needs a command to run.", {
      hint: "For example `offload sweep --host a,b --param lr=1e-3,1e-4 -- python train.py --lr {lr}`, or `command:` under `sweep:` in offload.yaml.",
    });
  const flagParams = (flags.param ?? []).map(parseParam);
  refuseRepeatedParams(flagParams);
  const params = mergeParams(block?.params ?? [], flagParams);
  if (params.length === 0)
    throw new OffloadError("E_USAGE", "`offload sweep` needs at least one --param NAME=V1,V2.", {
      hint: "For example `--param lr=1e-3,1e-4 --param bs=32,64`, used as {lr} and {bs} in the command, or `params:` under `sweep:` in offload.yaml.",
    });
  const grid = expandGrid(params);
  // Every point names the same parameters: a `{name}` none sets is refused here, before any host is
  // reached, rather than as an error in every run of the table.
  fillCommand(template, grid[0] ?? {});
  const hostNames =
    splitNodeHosts(hostFlag) ?? (hostFlag === undefined ? (block?.hosts ?? []) : [hostFlag]);
  if (hostNames.length === 0) requireHost(base.sources);
  const each =
    hostNames.length === 0
      ? [base]
      : await Promise.all(hostNames.map((host) => load({ ...flags, host })));
  const [first] = each;
  if (first === undefined) throw new Error("a sweep needs a host");
  const secrets = resolveSecrets(flags.secret ?? [], process.env, (path) =>
    readFileSync(path, "utf8"),
  );
  const projectDir = first.projectDir;
  const store = createStore(projectDir);
  const hosts: NodeTarget[] = each.map(({ settings }) =>
    createRunContext({ projectDir, settings, store }),
  );
  const inside = relative(projectDir, process.cwd());
  const interrupts = captureInterrupts("stop-then-leave", out.closed);
  const say = (line: string) => {
    if (flags.json) return;
    out.stderr.write(`${line}\n`);
  };
  // Each run's own events: its log is in its record; a notice (a reconnect, a stop) is worth a line.
  const reportFor =
    (index: number): Reporter =>
    (event) => {
      if (flags.json) {
        if (event.type !== "output")
          out.stdout.write(`${JSON.stringify({ run: index, ...eventJson(event) })}\n`);
        return;
      }
      if (isNotice(event)) say(`  #${index}: ${describeEvent(event)}`);
    };
  try {
    say(
      `sweep of ${grid.length} ${grid.length === 1 ? "run" : "runs"} over ${hosts.map((h) => h.transport.label).join(", ")}`,
    );
    const { sweepId, items, stopRequested } = await runSweep({
      command: template,
      grid,
      secrets,
      rebuildEnv: flags.rebuildEnv ?? false,
      hosts,
      reportFor,
      ...(inside.startsWith("..") ? {} : { workdir: inside.split(sep).join("/") }),
      controls: interrupts.controls,
      onChange: (all, item) => say(describeSweepChange(all, item)),
    });
    if (flags.json) {
      out.stdout.write(
        `${JSON.stringify({ sweep: sweepId, runs: items.map(({ record, ...item }) => ({ ...item, runId: record?.id, exitCode: record?.exitCode ?? null })) })}\n`,
      );
    } else {
      out.stdout.write(`${formatSweepTable(items)}\n`);
      const queued = items.filter((item) => item.state === "queued").length;
      if (stopRequested)
        say(`sweep ${sweepId} was stopped by \`offload stop\`; ${queued} runs were never started`);
      say(`sweep ${sweepId}: compare with \`offload report ${sweepId}\``);
    }
    const failed = items.filter((item) => SWEEP_FAILED.has(item.state) || item.state === "queued");
    return failed.length === 0 ? 0 : 1;
  } finally {
    interrupts.release();
  }
}
