// `offload attach SWEEP`: the sweep's live table again, from another terminal or after its `offload
// sweep` was left. Each running run is followed to its end here (its log into its record, off this
// terminal), or, while the `offload sweep` that started it still follows it, watched through its record;
// runs that sweep starts meanwhile join in; a line says each change, then the table lists every run of
// the sweep. Watching only: Ctrl+C leaves the runs going. Runs not started yet have no record here and
// are not shown.
import { setTimeout as sleep } from "node:timers/promises";
import { createRunContext, createStore } from "../../create.js";
import type { Reporter } from "../../events.js";
import { findProjectDir } from "../../project.js";
import type { RunRecord } from "../../runs/record.js";
import type { RunStore } from "../../runs/store.js";
import { attachRun } from "../../session/attach.js";
import { isLive, type RunSet } from "../../session/run-set.js";
import { findSweepRuns, SWEEP_TAG, type SweepItem, sweepIndexOf } from "../../session/sweep.js";
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

/** A run as a row, numbered by its grid point as `offload sweep` numbered it (`fallback` if unknown). */
function toItem(record: RunRecord, fallback: number): SweepItem {
  const { [SWEEP_TAG]: sweepId, ...params } = record.tags ?? {};
  const index = (sweepId === undefined ? undefined : sweepIndexOf(record, sweepId)) ?? fallback;
  return { index, params, state: record.status, host: record.target.label, record };
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
  const interrupts = captureInterrupts("leave", out.closed);
  const { detach } = interrupts.controls;
  const items = set.records.map(toItem).sort(byIndex);
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
  try {
    const live = items.filter((item) => item.record !== undefined && isLive(item.record));
    say(
      `sweep ${set.sweepId}: ${items.length} runs recorded, ${live.length} running${live.length > 0 ? "; Ctrl+C stops watching (the runs go on)" : ""}`,
    );
    // Runs the `offload sweep` starts meanwhile join the table; a pass ends when its runs have.
    const followed = new Set<SweepItem>();
    for (;;) {
      const next = items.filter(
        (item) => !followed.has(item) && item.record !== undefined && isLive(item.record),
      );
      if (next.length === 0 || detach?.aborted) break;
      for (const item of next) followed.add(item);
      await Promise.all(next.map(follow));
      const known = new Set(items.map((item) => item.record?.id));
      for (const record of await findSweepRuns(store, set.sweepId))
        if (!known.has(record.id)) {
          const item = toItem(record, items.length);
          items.push(item);
          say(describeSweepChange(items, item));
        }
    }
    // Runs that joined late were appended: back to grid order for the table.
    items.sort(byIndex);
    if (flags.json)
      out.stdout.write(
        `${JSON.stringify({ sweep: set.sweepId, runs: items.map(({ record, ...item }) => ({ ...item, runId: record?.id, exitCode: record?.exitCode ?? null })) })}\n`,
      );
    else out.stdout.write(`${formatSweepTable(items)}\n`);
    if (detach?.aborted) return 0;
    return items.some((item) => SWEEP_FAILED.has(item.state)) ? 1 : 0;
  } finally {
    interrupts.release();
  }
}
