// `offload attach SWEEP`: the sweep's live table again, from another terminal or after its `offload
// sweep` was left. Each running run is followed to its end here (its log into its record, off this
// terminal), or, while the `offload sweep` that started it still follows it, watched through its record;
// runs that sweep starts meanwhile join in; a line says each change, then the table lists every run of
// the sweep. Watching only: Ctrl+C leaves the runs going. A sweep with a plan (runs/sweep-plan.ts) lists
// every grid point: one with no run yet is `queued` (waited for) while its `offload sweep` runs, and
// `not started` once that offload is gone; a sweep started before plans shows its recorded runs only.
import { setTimeout as sleep } from "node:timers/promises";
import { createRunContext, createStore } from "../../create.js";
import type { Reporter } from "../../events.js";
import { findProjectDir } from "../../project.js";
import type { RunRecord } from "../../runs/record.js";
import type { RunStore } from "../../runs/store.js";
import { loadSweepPlan, type SweepPlan } from "../../runs/sweep-plan.js";
import { attachRun } from "../../session/attach.js";
import { isLive, type RunSet } from "../../session/run-set.js";
import type { SweepItem } from "../../session/sweep.js";
import {
  describeRunOf,
  describeSweepProcess,
  isUnstarted,
  placeOnGrid,
  toSweepItem,
} from "../../session/sweep-points.js";
import { findSweepRuns } from "../../session/sweep-runs.js";
import { describeEvent, isNotice } from "../event-lines.js";
import { captureInterrupts } from "../interrupts.js";
import type { Output } from "../render.js";
import { loadForRun, type TargetFlags } from "../settings.js";
import { describeSweepChange, formatSweepTable, SWEEP_FAILED } from "./sweep.js";

/** How often a run another offload follows is looked at: its record is a local file. */
const WATCH_MS = 1000;
const UNFOLLOWED_LOOKS = 3;

/**
 * The end another offload recorded, once it stands: that offload may still correct it (a `failed` it
 * learns was an `offload stop` becomes `stopped`), so the record must be left alone by its follower and
 * unchanged over two looks.
 */
async function awaitFinalRecord(store: RunStore, id: string, first: RunRecord): Promise<RunRecord> {
  let seen = JSON.stringify(first);
  let stable = 0;
  for (let look = 0; look < 15; look++) {
    await sleep(WATCH_MS);
    const record = await store.load(id);
    const now = JSON.stringify(record);
    stable = now === seen && store.followerOf(id) === undefined ? stable + 1 : 0;
    if (stable >= 2) return record;
    seen = now;
  }
  return store.load(id);
}

/** Grid order, as `offload sweep` lists the runs. */
function byIndex(a: SweepItem, b: SweepItem): number {
  return a.index - b.index;
}

export async function attachSweep(
  out: Output,
  set: Extract<RunSet, { kind: "sweep" }>,
  flags: TargetFlags,
): Promise<number> {
  const store = createStore(findProjectDir(process.cwd()));
  const plan = await loadSweepPlan(store, set.sweepId);
  const interrupts = captureInterrupts("leave", out.closed);
  const { detach } = interrupts.controls;
  const recorded = set.records.map(toSweepItem).sort(byIndex);
  const items = plan === undefined ? recorded : placeOnGrid(plan, recorded);
  const say = (line: string) => {
    if (!flags.json) out.stderr.write(`${line}\n`);
  };
  const settle = (item: SweepItem, record: RunRecord) => {
    item.record = record;
    item.state = record.status;
    say(describeSweepChange(items, item));
  };
  const { host: _ignored, ...perRun } = flags;
  // A run's own notices (a reconnect) are worth a line; its log stays in its record.
  const reportFor =
    (item: SweepItem): Reporter =>
    (event) => {
      if (isNotice(event) && !flags.json) say(`  #${item.index}: ${describeEvent(event)}`);
    };
  const follow = async (item: SweepItem) => {
    const id = item.record?.id ?? "";
    // A run's follower lets go of its log for a moment between the launch and the follow: only a run
    // left unfollowed over several looks is nobody's, else two offloads would follow it at once.
    for (let unfollowed = 0; unfollowed < UNFOLLOWED_LOOKS && !detach?.aborted; ) {
      unfollowed = store.followerOf(id) === undefined ? unfollowed + 1 : 0;
      const record = await store.load(id);
      if (!isLive(record)) return settle(item, await awaitFinalRecord(store, id, record));
      if (unfollowed < UNFOLLOWED_LOOKS)
        await sleep(WATCH_MS, undefined, { signal: detach }).catch(() => {});
    }
    if (detach?.aborted) return;
    // The follower may have just recorded the end and gone: that end stands.
    const current = await store.load(id);
    if (!isLive(current)) return settle(item, current);
    const { projectDir, settings } = await loadForRun(id, perRun);
    const context = createRunContext({
      projectDir,
      settings,
      store,
      report: reportFor(item),
      controls: { detach },
    });
    try {
      settle(item, await attachRun(context, { runId: id }));
    } catch (error) {
      if (detach?.aborted) return;
      item.state = "error";
      item.error = error instanceof Error ? error.message : String(error);
      say(describeSweepChange(items, item));
    }
  };
  // A run recorded since the last look takes its point's row (or a new one); says how many joined.
  const joinNewRuns = async () => {
    const known = new Set(items.map((item) => item.record?.id));
    let joined = 0;
    for (const record of await findSweepRuns(store, set.sweepId))
      if (!known.has(record.id)) {
        const found = toSweepItem(record, items.length);
        const point = plan === undefined ? undefined : items.find((i) => i.index === found.index);
        const item =
          point !== undefined && isUnstarted(point) ? Object.assign(point, found) : found;
        if (item === found) items.push(item);
        joined += 1;
        say(describeSweepChange(items, item));
      }
    return joined;
  };
  try {
    const live = items.filter((item) => item.record !== undefined && isLive(item.record));
    const queued = items.filter(isUnstarted).length;
    say(
      `sweep ${set.sweepId}: ${recorded.length} ${recorded.length === 1 ? "run" : "runs"} recorded, ${live.length} running${queued > 0 ? `, ${queued} grid points without a run` : ""}${live.length > 0 ? "; Ctrl+C stops watching (the runs go on)" : ""}`,
    );
    // Runs the `offload sweep` starts meanwhile join the table; a pass ends when its runs have. Points
    // without a run are waited for while that offload runs.
    const followed = new Set<SweepItem>();
    for (;;) {
      if (detach?.aborted) break;
      const next = items.filter(
        (item) => !followed.has(item) && item.record !== undefined && isLive(item.record),
      );
      for (const item of next) followed.add(item);
      await Promise.all(next.map(follow));
      // Looked at before the records are: a run it recorded before it ended is among those read.
      const sweeping = plan !== undefined && describeSweepProcess(plan) === "running";
      if ((await joinNewRuns()) > 0 || next.length > 0) continue;
      if (!sweeping || !items.some(isUnstarted)) break;
      await sleep(WATCH_MS, undefined, { signal: detach }).catch(() => {});
    }
    // Runs that joined late were appended: back to grid order for the table.
    items.sort(byIndex);
    const unstarted = plan === undefined || detach?.aborted ? [] : markUnstarted(plan, items);
    if (flags.json)
      out.stdout.write(
        `${JSON.stringify({ sweep: set.sweepId, runs: items.map(({ record, ...item }) => ({ ...item, runId: record?.id, exitCode: record?.exitCode ?? null })) })}\n`,
      );
    else out.stdout.write(`${formatSweepTable(items)}\n`);
    if (detach?.aborted) return 0;
    if (plan !== undefined && unstarted.length > 0) say(describeUnstarted(plan, items, unstarted));
    return items.some((item) => SWEEP_FAILED.has(item.state) || item.state === "queued") ? 1 : 0;
  } finally {
    interrupts.release();
  }
}

/**
 * The points with no run once the watch ends: `not started` where the plan's `offload sweep` is gone;
 * still `queued` where it cannot be told (it ran on another machine). Returns those points.
 */
function markUnstarted(plan: SweepPlan, items: SweepItem[]): SweepItem[] {
  const unstarted = items.filter(isUnstarted);
  if (describeSweepProcess(plan) === "ended")
    for (const item of unstarted) item.state = "not started";
  return unstarted;
}

/** The summary of the points with no run, and how to run them. */
function describeUnstarted(
  plan: SweepPlan,
  items: readonly SweepItem[],
  unstarted: readonly SweepItem[],
): string {
  const points = items.filter((item) => item.index < plan.grid.length).length;
  if (unstarted.some((item) => item.state === "queued"))
    return `${unstarted.length} of ${points} grid points have no run yet: their offload sweep (pid ${plan.pid}, on another machine or one this offload cannot check) may still start them; \`offload attach ${plan.sweepId}\` there, or later, shows them`;
  const shown = unstarted
    .slice(0, 10)
    .map((item) => `  #${item.index}: ${describeRunOf(plan, item)}`);
  const more =
    unstarted.length > shown.length ? [`  …and ${unstarted.length - shown.length} more`] : [];
  return [
    `${unstarted.length} of ${points} grid points never started (their offload sweep ended)`,
    `hint: \`offload sweep\` again runs every point of its grid anew; to run only these, run each with \`offload run\` on one of ${plan.hosts.join(", ")}:`,
    ...shown,
    ...more,
  ].join("\n");
}
