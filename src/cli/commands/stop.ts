// `offload stop [run]`: TERM to the run's processes (KILL after the grace period), then its log and
// outputs home and its end recorded, unless the offload that follows it does that.
import type { EffectiveSettings } from "../../config/settings.js";
import { createRunContext, createStore } from "../../create.js";
import type { Reporter } from "../../events.js";
import { findProjectDir } from "../../project.js";
import type { RunRecord } from "../../runs/record.js";
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
  const { projectDir, settings, runId } = await loadForRun(named, flags);
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

async function stopCommand(
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
