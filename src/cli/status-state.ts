// What the status line knows of a run's training: the latest progress and metrics from the log, and
// when epochs and steps were seen (for a rate and an ETA where the framework prints none).
import type { MetricEvent, ProgressEvent } from "../progress/types.js";

export interface StatusState {
  progress?: Omit<ProgressEvent, "type" | "source">;
  /** Latest value of each metric, in the order the log first printed them this epoch. */
  metrics: Map<string, { value: number; epoch?: number }>;
  /** The log's unfinished last line, shown while nothing was parsed yet (`Downloading…`). */
  partial?: string;
  /** When things were seen, for a rate and an ETA where the framework prints none. */
  timing: Timing;
  /** When the last checkpoint was taken (`every:`), for its age. */
  checkpointAt?: number;
  /** The host's load from its latest machine sample. */
  machine?: { gpuPercent?: number; cpuPercent?: number };
}

/** What the status line reads of a machine sample. */
export interface MachineLoad {
  cpuPercent?: number;
  gpus: readonly { utilizationPercent?: number }[];
}

/** GPU % (the mean of the GPUs that report one) where the host has GPUs, else CPU %. */
export function readMachineLoad(sample: MachineLoad): NonNullable<StatusState["machine"]> {
  const utils = sample.gpus
    .map((gpu) => gpu.utilizationPercent)
    .filter((value): value is number => value !== undefined);
  if (utils.length > 0) return { gpuPercent: utils.reduce((a, b) => a + b, 0) / utils.length };
  return sample.cpuPercent === undefined ? {} : { cpuPercent: sample.cpuPercent };
}

export interface Timing {
  /** When the current epoch was first seen, and how long each whole epoch seen took. */
  epochStartedAt?: number;
  epochMs: number[];
  /** The first step seen in this epoch and when: a step rate measured over the epoch so far. */
  firstStep?: { step: number; at: number };
  /**
   * Hugging Face prints the fraction of epochs done (`'epoch': 0.38`) beside a step count for the
   * whole run: its epochs are not restarted bars, and the first fraction seen starts the clock.
   */
  fractional: boolean;
  firstEpoch?: { epoch: number; at: number };
  now: number;
}

export function emptyStatus(): StatusState {
  return { metrics: new Map(), timing: { epochMs: [], fractional: false, now: 0 } };
}

/**
 * Keeps only the latest state: a tqdm bar reports many times a second, and only its last word
 * matters. A new epoch drops the old epoch's step, percent and ETA unless the event brings its own,
 * and the metrics an older epoch printed: the line never shows one epoch's numbers beside another's.
 */
export function applyStatusEvent(
  state: StatusState,
  event: ProgressEvent | MetricEvent,
  now: number = Date.now(),
): void {
  state.timing.now = now;
  if (event.type === "metric") {
    const entry: { value: number; epoch?: number } = { value: event.value };
    if (event.epoch !== undefined) entry.epoch = event.epoch;
    // Updating a value keeps its place: the order is the log's, not the order of updates.
    state.metrics.set(event.name, entry);
    return;
  }
  const { type: _type, source: _source, ...next } = event;
  const previous = state.progress ?? {};
  const timing = state.timing;
  if (next.epoch !== undefined && !Number.isInteger(next.epoch)) timing.fractional = true;
  // `'epoch': 0.38` then `0.42` is the same epoch, further on; a new epoch is a new whole number.
  const newEpoch =
    !timing.fractional &&
    next.epoch !== undefined &&
    (previous.epoch === undefined || Math.floor(next.epoch) !== Math.floor(previous.epoch));
  if (newEpoch && next.epoch !== undefined) startEpoch(state, next.epoch, previous.epoch, now);
  state.progress = newEpoch
    ? { ...(previous.epochs === undefined ? {} : { epochs: previous.epochs }), ...next }
    : { ...previous, ...next };
  if (
    next.step !== undefined &&
    (timing.firstStep === undefined || next.step < timing.firstStep.step)
  )
    timing.firstStep = { step: next.step, at: now };
  if (next.epoch !== undefined && timing.fractional && timing.firstEpoch === undefined)
    timing.firstEpoch = { epoch: next.epoch, at: now };
}

function startEpoch(
  state: StatusState,
  epoch: number,
  before: number | undefined,
  now: number,
): void {
  const timing = state.timing;
  // Only the epoch after the one timed is a whole epoch's time (not a jump, not a log joined mid-way).
  if (
    before !== undefined &&
    timing.epochStartedAt !== undefined &&
    Math.floor(epoch) === Math.floor(before) + 1
  )
    timing.epochMs.push(now - timing.epochStartedAt);
  timing.epochStartedAt = now;
  delete timing.firstStep;
  for (const [name, metric] of state.metrics) {
    if (metric.epoch !== undefined && Math.floor(metric.epoch) < Math.floor(epoch))
      state.metrics.delete(name);
  }
}
