// The one line at the bottom of a terminal that says where training stands (epoch, step, percent,
// rate, ETA, the latest metrics), redrawn in place under the scrolling log.
import type { MetricEvent, ProgressEvent } from "../progress/types.js";
import { formatClock, formatNumber, formatRate } from "../report/format.js";
import { colorsFor } from "./colors.js";

export interface StatusState {
  progress?: Omit<ProgressEvent, "type" | "source">;
  /** Latest value a metric, the most recently updated last. */
  metrics: Map<string, number>;
  /** The log's unfinished last line, shown while nothing was parsed yet (`Downloading…`). */
  partial?: string;
}

export function emptyStatus(): StatusState {
  return { metrics: new Map() };
}

/**
 * Keeps only the latest state: a tqdm bar reports many times a second, and only its last word
 * matters. A new epoch drops the old epoch's step, percent and ETA unless the event brings its own.
 */
export function applyStatusEvent(state: StatusState, event: ProgressEvent | MetricEvent): void {
  if (event.type === "metric") {
    state.metrics.delete(event.name);
    state.metrics.set(event.name, event.value);
    return;
  }
  const { type: _type, source: _source, ...next } = event;
  const previous = state.progress ?? {};
  const newEpoch = next.epoch !== undefined && next.epoch !== previous.epoch;
  state.progress = newEpoch
    ? { ...(previous.epochs === undefined ? {} : { epochs: previous.epochs }), ...next }
    : { ...previous, ...next };
}

const BAR_CELLS = 12;

function progressParts(p: NonNullable<StatusState["progress"]>): string[] {
  const parts: string[] = [];
  if (p.epoch !== undefined)
    parts.push(`epoch ${formatNumber(p.epoch)}${p.epochs === undefined ? "" : `/${p.epochs}`}`);
  if (p.step !== undefined)
    parts.push(`step ${p.step}${p.steps === undefined ? "" : `/${p.steps}`}`);
  const percent =
    p.percent ?? (p.step !== undefined && p.steps ? (p.step / p.steps) * 100 : undefined);
  if (percent !== undefined) {
    const clamped = Math.min(100, Math.max(0, percent));
    const filled = Math.round((clamped / 100) * BAR_CELLS);
    parts.push(`${"█".repeat(filled)}${"░".repeat(BAR_CELLS - filled)} ${Math.floor(clamped)}%`);
  }
  if (p.rate !== undefined && formatRate(p.rate) !== "") parts.push(formatRate(p.rate));
  if (p.etaSeconds !== undefined) parts.push(`ETA ${formatClock(p.etaSeconds)}`);
  return parts;
}

/**
 * The line as plain text, never wider than width - 1 (a full last column makes some terminals wrap).
 * Progress first; then as many of the newest metrics as fit, newest first.
 */
export function formatStatusLine(state: StatusState, width: number): string {
  const limit = Math.max(10, width - 1);
  let line = state.progress ? progressParts(state.progress).join("  ") : "";
  if (line === "" && state.metrics.size === 0) line = (state.partial ?? "").trim();
  for (const [name, value] of [...state.metrics].reverse()) {
    const next = `${line}${line === "" ? "" : "  "}${name} ${formatNumber(value)}`;
    if (next.length > limit) break;
    line = next;
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
  const request = () => {
    if (closed) return;
    const wait = lastDraw + interval - now();
    if (wait <= 0) draw();
    else cancel ??= schedule(draw, wait);
  };
  const erase = () => {
    if (shown !== "") stream.write(CLEAR);
    shown = "";
  };

  return {
    update(event) {
      applyStatusEvent(state, event);
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
