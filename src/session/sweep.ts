// `offload sweep`: the runs of a parameter grid, queued over hosts (one at a time on each), each a
// whole run of its own (own remote dir, own record tagged with its parameters and the sweep's id).
// A failed run is recorded and the queue goes on; Ctrl+C stops the running ones and starts no more.
import { SWEEP_PARAM_NAME, SWEEP_PLACEHOLDER, SWEEP_VALUE_REFUSED } from "../config/sweep.js";
import type { RunContext, RunControls } from "../context.js";
import { OffloadError } from "../errors.js";
import type { Reporter } from "../events.js";
import { buildGpuEnv, type GpuInfo } from "../host/gpus.js";
import { createRunId } from "../runs/new-id.js";
import type { RunRecord } from "../runs/record.js";
import { saveSweepPlan } from "../runs/sweep-plan.js";
import { isSweepStopRequested } from "../runs/sweep-stop.js";
import { quoteShell } from "../shell/quote.js";
import { readHostFacts } from "./host-facts.js";
import { localOrigin } from "./lock-origin.js";
import type { NodeTarget } from "./nodes.js";
import { type RunRequest, runJob } from "./run.js";
import { ArraySubmission, arrayBackendOf } from "./sweep-array.js";
import { SWEEP_TAG } from "./sweep-runs.js";

/** The tag that names a run's sweep: `offload report SWEEP` and `ps` find the runs by it. */

/** `lr=1e-3,1e-4` → ["lr", ["1e-3", "1e-4"]]. */
export function parseParam(text: string): [string, string[]] {
  const at = text.indexOf("=");
  const name = at > 0 ? text.slice(0, at) : "";
  const values = text
    .slice(at + 1)
    .split(",")
    .map((v) => v.trim());
  if (!SWEEP_PARAM_NAME.test(name) || name === SWEEP_TAG || values.some((v) => v === ""))
    throw new OffloadError("E_USAGE", `--param ${JSON.stringify(text)} is not NAME=V1,V2,….`, {
      hint: "Give a name (letters, digits, _; not `sweep`) and its values, e.g. `--param lr=1e-3,1e-4`.",
    });
  // A value becomes a tag of its run (`--tag` refuses the same) and a cell of the sweep's lines and
  // tables: a newline in it split `ps` rows and `[2/4] #1 …` lines in two.
  if (values.some((v) => SWEEP_VALUE_REFUSED.test(v)))
    throw new OffloadError("E_USAGE", `--param ${JSON.stringify(text)} has a control character.`, {
      hint: "Give each value on one line, without tabs or other control characters.",
    });
  return [name, values];
}

/** Every combination of the parameters' values, the first parameter varying slowest. */
export function expandGrid(params: ReadonlyArray<[string, string[]]>): Record<string, string>[] {
  let grid: Record<string, string>[] = [{}];
  for (const [name, values] of params)
    grid = grid.flatMap((point) => values.map((value) => ({ ...point, [name]: value })));
  return grid;
}

/**
 * The grid's parameters: `sweep.params` of offload.yaml, a `--param` of the same name replacing that
 * one's values, a new name added after them.
 */
export function mergeParams(
  file: ReadonlyArray<[string, string[]]>,
  flags: ReadonlyArray<[string, string[]]>,
): [string, string[]][] {
  const merged = new Map<string, string[]>(file);
  for (const [name, values] of flags) merged.set(name, values);
  return [...merged];
}

/**
 * The command with each `{name}` replaced by the run's value; a `{name}` of no parameter is refused.
 * A command given as one line of shell text gets each value quoted, so a value is one word there too.
 */
export function fillCommand(command: readonly string[], point: Record<string, string>): string[] {
  const shellLine = command.length === 1 && /\s/.test(command[0] ?? "");
  return command.map((word) =>
    word.replace(SWEEP_PLACEHOLDER, (whole, name: string) => {
      const value = point[name];
      if (value === undefined)
        throw new OffloadError("E_USAGE", `The command names ${whole}, which no --param sets.`, {
          hint: `Add \`--param ${name}=…\` (or \`${name}:\` under sweep.params in offload.yaml), or write it as a literal.`,
        });
      return shellLine ? quoteShell(value) : value;
    }),
  );
}

/** `not started`: a point of a sweep's plan with no run, whose `offload sweep` is gone (attach SWEEP). */
export type SweepState = "queued" | "running" | "not started" | RunRecord["status"];

export interface SweepItem {
  index: number;
  params: Record<string, string>;
  state: SweepState;
  host?: string;
  record?: RunRecord;
  /** Why a run ended without a record of its end (refused, connection lost…). */
  error?: string;
}

export interface SweepRequest {
  command: readonly string[];
  grid: readonly Record<string, string>[];
  hosts: readonly NodeTarget[];
  /** The reporter of run `index`'s events (the CLI keeps its log lines off the terminal). */
  reportFor: (index: number) => Reporter;
  /** Each change of a run's state, for the live table. */
  onChange?: (items: readonly SweepItem[], changed: SweepItem) => void;
  workdir?: string;
  secrets?: RunRequest["secrets"];
  rebuildEnv?: boolean;
  controls?: RunControls;
  /** A fresh sweep id when absent. */
  sweepId?: string;
}

export interface SweepResult {
  sweepId: string;
  items: SweepItem[];
  /** `offload stop SWEEP` asked for the end: the runs still queued then were never started. */
  stopRequested: boolean;
}

/** A GPU no other job uses: under 1 GiB of its memory taken and under 10 % busy. */
function isFree(gpu: GpuInfo): boolean {
  return (gpu.memoryUsedMiB ?? 0) < 1024 && (gpu.utilizationPercent ?? 0) < 10;
}

/**
 * The slots of a host: one a free GPU (the run sees only that one), else one with no GPU pinned (a
 * host without GPUs, or `gpus: 0`, or none free: the runs then take turns on what there is).
 */
export function planSlots(
  gpus: readonly GpuInfo[],
  gpusSetting?: number,
): Record<string, string>[] {
  if (gpusSetting === 0) return [{}];
  const free = gpus.filter(isFree);
  return free.length === 0 ? [{}] : free.map((gpu) => buildGpuEnv([gpu]));
}

/**
 * A worker a slot: the host's free GPUs as nvidia-smi reports them now; a scheduler (Slurm) gets one
 * a run, since it queues and places the runs itself.
 */
async function slotsOf(host: NodeTarget, runs: number): Promise<Record<string, string>[]> {
  if (host.backend.schedules) return Array.from({ length: runs }, () => ({}));
  const facts = await readHostFacts(host.transport, host.settings.remoteDir, { fresh: true }).catch(
    () => undefined,
  );
  return planSlots(facts?.gpus ?? [], host.settings.gpus);
}

/** The remote dir of a sweep's run: beside the target's own, so no sweep run waits on its lock. */
export function sweepRemoteDir(base: string, sweepId: string, index: number): string {
  return `${base.replace(/\/+$/, "")}.sweeps/${sweepId}-${index}`;
}

/** A sweep run's grid index, read back from its remote dir (sweepRemoteDir); undefined if not one. */
export function sweepIndexOf(record: RunRecord, sweepId: string): number | undefined {
  const suffix = `.sweeps/${sweepId}-`;
  const dir = record.target.remoteDir;
  const at = dir.lastIndexOf(suffix);
  const index = at < 0 ? "" : dir.slice(at + suffix.length);
  return /^\d+$/.test(index) ? Number(index) : undefined;
}

/**
 * The sweep's plan, stored before any run starts: a grid point whose run never started (this offload
 * killed first) has no record, and `attach SWEEP` reads it here.
 */
async function recordPlan(request: SweepRequest, sweepId: string): Promise<void> {
  const store = request.hosts[0]?.store;
  if (store === undefined) return;
  const origin = localOrigin();
  await saveSweepPlan(store, {
    sweepId,
    command: [...request.command],
    grid: request.grid.map((point) => ({ ...point })),
    hosts: request.hosts.map((host) => host.transport.label),
    pid: process.pid,
    ...(origin === undefined ? {} : { origin }),
    startedAt: new Date().toISOString(),
  });
}

export async function runSweep(request: SweepRequest): Promise<SweepResult> {
  const sweepId = request.sweepId ?? createRunId();
  const items: SweepItem[] = request.grid.map((params, index) => ({
    index,
    params,
    state: "queued",
  }));
  await recordPlan(request, sweepId);
  const queue = [...items];
  const stop = request.controls?.stop;
  const change = (item: SweepItem) => request.onChange?.(items, item);
  let stopRequested = false;

  // A scheduler with job arrays (Slurm) gets the runs its slots take as one array.
  const arrays = new Map<NodeTarget, ArraySubmission>();
  for (const host of request.hosts) {
    const backend = arrayBackendOf(host.backend);
    if (backend) arrays.set(host, new ArraySubmission(backend, sweepId, stop));
  }

  // One worker a slot (a free GPU of a host, or the host): it takes the next queued run until none
  // is left or a stop was asked.
  const work = async (host: NodeTarget, slot: Record<string, string>) => {
    const array = arrays.get(host);
    for (;;) {
      if (stop?.aborted || request.controls?.detach?.aborted) return;
      if (queue.length > 0 && isSweepStopRequested(host.store, sweepId)) {
        stopRequested = true;
        return;
      }
      // An array's slots take their runs at once, before any is submitted: one run each.
      const item = array?.taken ? undefined : queue.shift();
      if (item === undefined) return;
      array?.expect(item.index);
      item.host =
        host.transport.label +
        (slot.CUDA_VISIBLE_DEVICES ? ` gpu ${slot.CUDA_VISIBLE_DEVICES}` : "");
      const running = () => {
        item.state = "running";
        change(item);
      };
      // A run of a job array waits for the others' launches and one submit: it runs from its task's
      // submit on, not from when its slot took it (it said "running on" while nothing was submitted).
      const report = request.reportFor(item.index);
      if (array === undefined) running();
      try {
        const context: RunContext = {
          ...host,
          settings: {
            ...host.settings,
            env: { ...host.settings.env, ...slot },
            gpus: undefined,
            remoteDir: sweepRemoteDir(host.settings.remoteDir, sweepId, item.index),
          },
          report: array
            ? (event) => {
                report(event);
                if (event.type === "slurm-submitted") running();
              }
            : report,
          controls: request.controls ?? {},
          ...(array ? { backend: array.backendFor(item.index) } : {}),
        };
        item.record = await runJob(context, {
          command: fillCommand(request.command, item.params),
          tags: { [SWEEP_TAG]: sweepId, ...item.params },
          ...(request.workdir === undefined ? {} : { workdir: request.workdir }),
          ...(request.secrets === undefined ? {} : { secrets: request.secrets }),
          ...(request.rebuildEnv === undefined ? {} : { rebuildEnv: request.rebuildEnv }),
        });
        item.state = item.record.status;
      } catch (error) {
        item.state = "error";
        item.error = error instanceof Error ? error.message : String(error);
      } finally {
        array?.withdraw(item.index);
      }
      change(item);
    }
  };
  const slots = await Promise.all(request.hosts.map((host) => slotsOf(host, items.length)));
  const working = Promise.all(
    request.hosts.flatMap((host, h) => (slots[h] ?? [{}]).map((slot) => work(host, slot))),
  );
  // Every slot has taken its run by now (a worker takes one before its first wait).
  for (const array of arrays.values()) array.close();
  await working;
  return { sweepId, items, stopRequested };
}
