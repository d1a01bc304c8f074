// The one line at the bottom of a terminal that says where training stands, redrawn in place under the
// scrolling log: throttled, cleared around every write, gone for good on close.
import type { MetricEvent, ProgressEvent } from "../progress/types.js";
import { colorsFor } from "./colors.js";
import {
  applyStatusEvent,
  emptyStatus,
  type MachineLoad,
  readMachineLoad,
} from "./status-state.js";
import { formatStatusLine } from "./status-text.js";

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
  /** The host's latest machine sample: the line shows GPU % where there are GPUs, else CPU %. */
  machine(sample: MachineLoad): void;
  /** A checkpoint was taken at `at` (epoch ms): the line shows its age. */
  checkpoint(at: number): void;
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
    machine(sample) {
      state.machine = readMachineLoad(sample);
      request();
    },
    checkpoint(at) {
      state.checkpointAt = at;
      state.timing.now = now();
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
