// `offload attach [run]` (and `run --resume`): follow a run again from where this machine's log ends,
// then finish it as `run` would.
import type { EffectiveSettings } from "../../config/settings.js";
import { createRunContext, createStore } from "../../create.js";
import { findProjectDir } from "../../project.js";
import { attachRun } from "../../session/attach.js";
import { resolveRunSet } from "../../session/run-set.js";
import { captureInterrupts } from "../interrupts.js";
import type { Output } from "../render.js";
import { loadForRun, type TargetFlags } from "../settings.js";
import { describeRunEnd } from "./run-end.js";
import { exitCodeOf, type FollowFlags, reporterFor } from "./run-follow.js";

export async function attachAction(
  out: Output,
  run: string | undefined,
  flags: TargetFlags & FollowFlags,
): Promise<number> {
  // A sweep's id names its runs: its live table instead of one run's log. A node's run names its job.
  const set = await resolveRunSet(createStore(findProjectDir(process.cwd())), run);
  if (set.kind === "sweep") {
    const { attachSweep } = await import("./attach-sweep.js");
    return attachSweep(out, set, flags);
  }
  if (set.kind === "nodes") {
    const { attachNodesCommand } = await import("./attach-nodes.js");
    return attachNodesCommand(out, set, flags);
  }
  const { projectDir, settings, runId } = await loadForRun(run, flags);
  return attachCommand(projectDir, settings, runId, flags, out);
}

export async function attachCommand(
  projectDir: string,
  settings: EffectiveSettings,
  runId: string,
  flags: FollowFlags,
  out: Output,
): Promise<number> {
  // Watching only: Ctrl+C leaves the run going (`offload stop` stops it).
  const interrupts = captureInterrupts("leave", out.closed);
  const reporter = reporterFor(flags, out);
  const context = createRunContext({
    projectDir,
    settings,
    report: reporter.report,
    controls: interrupts.controls,
  });
  const { store } = context;
  let endLine: string | undefined;
  try {
    const record = await attachRun(context, { runId });
    if (!flags.json && record.status !== "running") endLine = await describeRunEnd(store, record);
    return exitCodeOf(record);
  } finally {
    reporter.close();
    interrupts.release();
    if (endLine !== undefined) out.stderr.write(`${endLine}\n`);
  }
}
