// The one line at the bottom of a terminal that says where training stands (epoch, step, percent,
// rate, ETA, the latest metrics), redrawn in place under the scrolling log.
import type { MetricEvent, ProgressEvent } from "../progress/types.js";
import { formatClock, formatDuration, formatNumber, formatRate } from "../report/format.js";
import { colorsFor } from "./colors.js";

export interface StatusState {
  progress?: Omit<ProgressEvent, "type" | "source">;
  /** Latest value of each metric, in the order the log first printed them this epoch. */
  metrics: Map<string, { value: number; epoch?: number }>;
  /** The log's unfinished last line, shown while nothing was parsed yet (`Downloading…`). */
  partial?: string;
  /** When things were seen, for a rate and an ETA where the framework prints none. */
  timing: Timing;
}

interface Timing {
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

/** A rate or an ETA measured over less than this swings too much to show. */
const MIN_SAMPLE_MS = 1000;

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

const BAR_CELLS = 12;

/**
 * Whole epochs timed over a second in all: a log that arrives in one burst (an attach catching up)
 * shows many epochs a few milliseconds apart, which says nothing about how long one takes.
 */
function timedEpochs(t: Timing): boolean {
  return t.epochMs.reduce((a, b) => a + b, 0) >= MIN_SAMPLE_MS;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The fraction of the whole run done, from the epochs when the log says how many there are. */
function runFraction(p: NonNullable<StatusState["progress"]>, t: Timing): number | undefined {
  if (p.epoch === undefined || !(p.epochs !== undefined && p.epochs > 0)) return undefined;
  if (t.fractional) return Math.min(1, Math.max(0, p.epoch / p.epochs));
  // The epoch under way (1-based: `Epoch 3/10` has done 2), and how far its bar is.
  const within = p.steps ? (p.step ?? 0) / p.steps : (p.percent ?? 0) / 100;
  return Math.min(1, Math.max(0, (p.epoch - 1 + within) / p.epochs));
}

/** Iterations a second measured over this epoch's steps, when the log printed no rate. */
function measuredStepRate(p: NonNullable<StatusState["progress"]>, t: Timing): number | undefined {
  if (p.step === undefined || t.firstStep === undefined) return undefined;
  const ms = t.now - t.firstStep.at;
  return ms >= MIN_SAMPLE_MS && p.step > t.firstStep.step
    ? ((p.step - t.firstStep.step) * 1000) / ms
    : undefined;
}

/** Seconds left: the log's own ETA, else from the step rate, else from how long epochs take. */
function estimateEta(p: NonNullable<StatusState["progress"]>, t: Timing): number | undefined {
  if (p.etaSeconds !== undefined) return p.etaSeconds;
  const stepRate = p.rate ?? measuredStepRate(p, t);
  // The steps count the whole run when no epochs are known, or when epochs are fractions of it.
  const runSteps = p.epochs === undefined || t.fractional;
  if (runSteps && p.steps !== undefined && p.step !== undefined && stepRate)
    return (p.steps - p.step) / stepRate;
  const fraction = runFraction(p, t);
  if (fraction === undefined || p.epochs === undefined || p.epoch === undefined) return undefined;
  if (timedEpochs(t)) {
    const perEpoch = mean(t.epochMs);
    return Math.max(0, perEpoch * (1 - fraction) * p.epochs) / 1000;
  }
  if (stepRate && p.steps !== undefined && p.step !== undefined && !t.fractional)
    return (p.steps - p.step + (p.epochs - p.epoch) * p.steps) / stepRate;
  // Fractional epochs: how fast the fraction grew since it was first seen.
  const first = t.firstEpoch;
  if (first === undefined || !(p.epoch > first.epoch) || t.now - first.at < MIN_SAMPLE_MS)
    return undefined;
  const perEpochMs = (t.now - first.at) / (p.epoch - first.epoch);
  return (perEpochMs * (p.epochs - p.epoch)) / 1000;
}

function rateText(p: NonNullable<StatusState["progress"]>, t: Timing): string {
  const rate = p.rate ?? measuredStepRate(p, t);
  if (rate !== undefined && formatRate(rate) !== "") return formatRate(rate);
  // No step rate at all (`Epoch 3/10 - loss: …` once an epoch): the time an epoch takes.
  return timedEpochs(t) ? `${formatDuration(mean(t.epochMs))}/epoch` : "";
}

function progressParts(p: NonNullable<StatusState["progress"]>, t: Timing): string[] {
  const parts: string[] = [];
  if (p.epoch !== undefined)
    parts.push(`epoch ${formatNumber(p.epoch)}${p.epochs === undefined ? "" : `/${p.epochs}`}`);
  if (p.step !== undefined)
    parts.push(`step ${p.step}${p.steps === undefined ? "" : `/${p.steps}`}`);
  const fraction = runFraction(p, t);
  const percent =
    p.percent ??
    (p.step !== undefined && p.steps ? (p.step / p.steps) * 100 : undefined) ??
    (fraction === undefined ? undefined : fraction * 100);
  if (percent !== undefined) {
    const clamped = Math.min(100, Math.max(0, percent));
    const filled = Math.round((clamped / 100) * BAR_CELLS);
    parts.push(`${"█".repeat(filled)}${"░".repeat(BAR_CELLS - filled)} ${Math.floor(clamped)}%`);
  }
  const rate = rateText(p, t);
  if (rate !== "") parts.push(rate);
  const eta = estimateEta(p, t);
  if (eta !== undefined) parts.push(`ETA ${formatClock(eta)}`);
  return parts;
}

/**
 * The line as plain text, never wider than width - 1 (a full last column makes some terminals wrap).
 * Progress first; then the metrics in the log's order, each that fits.
 */
export function formatStatusLine(state: StatusState, width: number): string {
  const limit = Math.max(10, width - 1);
  let line = state.progress ? progressParts(state.progress, state.timing).join("  ") : "";
  if (line === "" && state.metrics.size === 0) line = (state.partial ?? "").trim();
  for (const [name, { value }] of state.metrics) {
    const next = `${line}${line === "" ? "" : "  "}${name} ${formatNumber(value)}`;
    if (next.length <= limit) line = next;
  }
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}

export interface StatusLineOptions {
  /** Fewest milliseconds between two redraws caused by new state (10 a second by default). */
  intervalMs?: number;
  now?: () => number;
  /** Runs fn after ms and returns a cancel; a real timer by default. */
  schedule?: (fn: () => void, ms: number) => () => void;
  /** Where NO_COLOR, FORCE_COLOR and TERM are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export interface StatusLine {
  update(event: ProgressEvent | MetricEvent): void;
  /** The log line still being written, which the caller holds back from the screen. */
  showPartial(text: string): void;
  /** Clears the line, lets write print (the log, a message), then puts the line back. */
  around(write: () => void): void;
  /** Clears the line for good. */
  close(): void;
}

type TtyStream = NodeJS.WritableStream & { columns?: number };

const CLEAR = "\r\x1b[2K";

/** A pseudo-terminal without a size (`script`, some CI runners) reports 0 columns. */
function widthOf(stream: TtyStream): number {
  return stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
}

function realSchedule(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  // A pending redraw must never keep offload alive once the run is over.
  timer.unref();
  return () => clearTimeout(timer);
}

export function createStatusLine(stream: TtyStream, options: StatusLineOptions = {}): StatusLine {
  const interval = options.intervalMs ?? 100;
  const now = options.now ?? Date.now;
  const schedule = options.schedule ?? realSchedule;
  const pc = colorsFor(stream, options.env);
  const state = emptyStatus();
  let shown = "";
  let lastDraw = Number.NEGATIVE_INFINITY;
  let cancel: (() => void) | undefined;
  let closed = false;

  const draw = () => {
    cancel?.();
    cancel = undefined;
    const line = formatStatusLine(state, widthOf(stream));
    // Only a write counts against the throttle: the first real state shows at once.
    if (line === shown) return;
    lastDraw = now();
    stream.write(`${CLEAR}${pc.dim(line)}`);
    shown = line;
  };
  let queued = false;
  const request = () => {
    if (closed || queued) return;
    // The events of one log line come one after another in the same tick (`Epoch 4/20 - loss: …`
    // is a progress event, then its metrics): draw once they are all in, not the line half-read.
    queued = true;
    queueMicrotask(() => {
      queued = false;
      if (closed) return;
      const wait = lastDraw + interval - now();
      if (wait <= 0) draw();
      else cancel ??= schedule(draw, wait);
    });
  };
  const erase = () => {
    if (shown !== "") stream.write(CLEAR);
    shown = "";
  };

  return {
    update(event) {
      applyStatusEvent(state, event, now());
      request();
    },
    showPartial(text) {
      state.partial = text;
      request();
    },
    around(write) {
      if (closed) return write();
      const had = shown !== "";
      erase();
      write();
      // Repaints only what the write erased; new state still waits for the throttle.
      if (had) {
        shown = formatStatusLine(state, widthOf(stream));
        stream.write(pc.dim(shown));
      }
    },
    close() {
      cancel?.();
      cancel = undefined;
      erase();
      closed = true;
    },
  };
}
