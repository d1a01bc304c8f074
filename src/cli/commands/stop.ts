// `offload stop [run]`: TERM to the run's processes (KILL after the grace period), then its log and
// outputs home and its end recorded, unless the offload that follows it does that.
import type { EffectiveSettings } from "../../config/settings.js";
import { createRunContext, createStore } from "../../create.js";
import type { Reporter } from "../../events.js";
import { findProjectDir } from "../../project.js";
import type { RunRecord } from "../../runs/record.js";
import { requestSweepStop } from "../../runs/sweep-stop.js";
import { isLive, type RunSet, resolveRunSet } from "../../session/run-set.js";
import { recordStoppedRun, signalRun } from "../../session/stop-run.js";
import { createHumanReporter, type Output } from "../render.js";
import { loadForRun, type TargetFlags } from "../settings.js";

export async function stopAction(
  out: Output,
  run: string | undefined,
  flags: TargetFlags,
): Promise<number> {
  let named = run;
  if (named === undefined) {
    // No run named: the latest run recorded as running, never one that has ended.
    const records = await createStore(findProjectDir(process.cwd())).list();
    const live = records.filter((r) => r.status === "running" || r.status === "launching").at(-1);
    if (live === undefined) return reportNothingRunning(records.at(-1), out, flags);
    named = live.id;
  }
  // A sweep's id, or a run of a job across nodes, names many runs: each live one is stopped.
  const set = await resolveRunSet(createStore(findProjectDir(process.cwd())), named);
  if (set.kind !== "run") {
    return stopRunSet(out, set, flags);
  }
  const { projectDir, settings, runId } = await loadForRun(set.record.id, flags);
  return stopCommand(projectDir, settings, runId, out, flags);
}

/** `offload stop` with no run named and no run recorded as running: say so, stop nothing. */
function reportNothingRunning(
  latest: RunRecord | undefined,
  out: Output,
  flags: { json?: boolean },
): number {
  if (flags.json) out.stdout.write(`${JSON.stringify({ outcome: "nothing-running" })}\n`);
  const last = latest ? ` (the latest, ${latest.id}, ${latest.status})` : "";
  out.stderr.write(
    `no run of this project is running${last}; nothing was stopped. \`offload stop <run>\` names one.\n`,
  );
  return 0;
}

export async function stopCommand(
  projectDir: string,
  settings: EffectiveSettings,
  runId: string,
  out: Output,
  flags: { json?: boolean } = {},
): Promise<number> {
  const context = createRunContext({ projectDir, settings });
  const { store } = context;
  const { graceSeconds } = context.settings;
  const record = await store.load(runId);
  const say = (text: string) => {
    if (!flags.json) out.stderr.write(text);
  };
  const result = (outcome: string, final: RunRecord = record) => {
    if (flags.json) {
      const { id, status, exitCode } = final;
      out.stdout.write(`${JSON.stringify({ runId: id, outcome, status, exitCode })}\n`);
    }
    return 0;
  };
  say(`stopping run ${record.id} on ${settings.hostLabel} (TERM, KILL after ${graceSeconds} s)…\n`);
  const outcome = await signalRun(context, record);
  const said = {
    stopped: "stopped",
    "already-ended": "had already ended",
    pending: "was signalled; it has not written its exit status yet",
  }[outcome];
  say(`run ${record.id} ${said}\n`);
  if (outcome === "pending")
    say(`\`offload attach ${record.id}\` records its end once it has one.\n`);
  if (outcome === "pending" || record.status !== "running") return result(outcome);
  // Like a Ctrl+C in `offload run`: bring the rest of the log and the outputs home and record the end,
  // unless the offload that started the run is still following it and does that itself.
  // Quiet: only the final line. The log's tail goes to the run's output.log, not to this terminal.
  const reporter = flags.json ? undefined : createHumanReporter(out, { quiet: true });
  const quiet: Reporter = (event) => {
    if (event.type !== "output") reporter?.(event);
  };
  try {
    const end = await recordStoppedRun({ ...context, report: quiet }, record.id);
    if (end.recordedBy === "this") return result(outcome, end.record);
    say(`the offload following run ${record.id} records its end.\n`);
    return result(outcome, end.record);
  } finally {
    reporter?.close();
  }
}

/**
 * `offload stop SWEEP` and `offload stop RUN` of a job across nodes: every live run of the set is
 * stopped at once, each as `offload stop RUN` would. A sweep is first told to start no more runs, so its
 * `offload sweep`, if one still runs here, ends after these.
 */
async function stopRunSet(
  out: Output,
  set: Exclude<RunSet, { kind: "run" }>,
  flags: TargetFlags,
): Promise<number> {
  const say = (text: string) => {
    if (!flags.json) out.stderr.write(`${text}\n`);
  };
  if (set.kind === "sweep")
    await requestSweepStop(createStore(findProjectDir(process.cwd())), set.sweepId);
  const live = set.records.filter(isLive);
  const what =
    set.kind === "sweep"
      ? `sweep ${set.sweepId}`
      : `the job across ${set.records.length} nodes of run ${set.records[0]?.id ?? ""}`;
  if (live.length === 0) {
    if (flags.json) out.stdout.write(`${JSON.stringify({ outcome: "nothing-running" })}\n`);
    say(
      `no run of ${what} is running (${set.records.length} recorded); nothing was stopped${set.kind === "sweep" ? ", and it starts no more runs" : ""}.`,
    );
    return 0;
  }
  say(`stopping ${what}: ${live.length} running of ${set.records.length}`);
  // Each run on its own host and remote dir, as its record says: a --host would send them all to one.
  const { host: _ignored, ...perRun } = flags;
  const codes = await Promise.all(
    live.map(async (record) => {
      const { projectDir, settings, runId } = await loadForRun(record.id, perRun);
      return stopCommand(projectDir, settings, runId, out, flags);
    }),
  );
  return Math.max(0, ...codes);
}
