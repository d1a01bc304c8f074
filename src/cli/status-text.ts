// The status line's text: epoch, step, a bar, rate and ETA (the log's own, or estimated from how fast
// it goes), then the latest metrics, fitted to the terminal's width.
import { formatClock, formatDuration, formatNumber, formatRate } from "../report/format.js";
import type { StatusState, Timing } from "./status-state.js";

/** A rate or an ETA measured over less than this swings too much to show. */
const MIN_SAMPLE_MS = 1000;

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

/** `GPU 87%` on a host with GPUs, `CPU 45%` on one without; "" before the first sample says. */
function machineText(load: StatusState["machine"]): string {
  if (load?.gpuPercent !== undefined) return `GPU ${Math.round(load.gpuPercent)}%`;
  if (load?.cpuPercent !== undefined) return `CPU ${Math.round(load.cpuPercent)}%`;
  return "";
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
  const load = machineText(state.machine);
  if (load !== "") {
    const next = `${line}${line === "" ? "" : "  "}${load}`;
    if (next.length <= limit) line = next;
  }
  if (state.checkpointAt !== undefined) {
    const age = Math.max(0, state.timing.now - state.checkpointAt);
    const next = `${line}${line === "" ? "" : "  "}ckpt ${formatDuration(age)} ago`;
    if (next.length <= limit) line = next;
  }
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}
