// Calls the built CLI the way a user does and reads back the run record it leaves.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../src/runs/record.js";
import type { BenchContext } from "./context.js";
import type { Samples } from "./result.js";
import { mustTime, type Timed } from "./tools.js";

export const PHASES = ["connect", "sync", "launch", "run", "download", "total"] as const;

export interface OffloadCall {
  /** Remote dir, relative to the remote home. */
  remote: string;
  /** The command after `--`. */
  command?: string[];
  /** Flags before `--` (e.g. `--download big.bin`). */
  flags?: string[];
  env?: NodeJS.ProcessEnv;
  discardStdout?: boolean;
}

export function offloadArgv(ctx: BenchContext, call: OffloadCall): string[] {
  return [
    ...ctx.offload,
    "run",
    "--quiet",
    "--ssh-config",
    ctx.bed.sshConfig,
    "--host",
    `${ctx.host}/${call.remote}`,
    ...(call.flags ?? []),
    "--",
    ...(call.command ?? ["true"]),
  ];
}

export function latestRecord(project: string): RunRecord {
  const runs = join(project, ".offload", "runs");
  const id = readdirSync(runs).sort().at(-1) ?? "";
  return JSON.parse(readFileSync(join(runs, id, "run.json"), "utf8")) as RunRecord;
}

/** Runs `offload run` in `project`; returns its wall time and the record's phases. */
export async function runOffload(
  ctx: BenchContext,
  project: string,
  call: OffloadCall,
): Promise<{ timed: Timed; record: RunRecord }> {
  const timed = await mustTime(offloadArgv(ctx, call), {
    cwd: project,
    env: call.env ?? ctx.env,
    discardStdout: call.discardStdout ?? false,
  });
  return { timed, record: latestRecord(project) };
}

/** Adds the wall time as `wall` and each phase under its name, prefixed. */
export function addRun(
  samples: Samples,
  prefix: string,
  outcome: { timed: Timed; record: RunRecord },
): void {
  samples.add(`${prefix}wall`, outcome.timed.ms);
  for (const phase of PHASES) samples.add(`${prefix}${phase}`, outcome.record.phases[phase]);
}

export function phaseNames(prefix: string): string[] {
  return [`${prefix}wall`, ...PHASES.map((phase) => `${prefix}${phase}`)];
}
