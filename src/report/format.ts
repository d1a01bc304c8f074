// How numbers and times read in reports and the status line: short, and the same everywhere.

/** Four significant digits, integers as they are, tiny or huge values in exponent form. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e7) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e7)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** `1.23s`, `12.3s` (`unit` " s" for `1.23 s`): two decimals below ten seconds, one above. */
export function formatSeconds(ms: number, unit = "s"): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}${unit}`;
}

/** Whole seconds as `4m05s`. */
export function formatMinutes(seconds: number): string {
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

/** Whole seconds as `2h03m`. */
export function formatHours(seconds: number): string {
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

/** `12.3s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return formatSeconds(ms);
  const whole = Math.round(ms / 1000);
  return whole < 3600 ? formatMinutes(whole) : formatHours(whole);
}

/** A countdown as a clock: `0:42`, `12:05`, `1:02:03`. */
export function formatClock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Iterations per second, or seconds per iteration when an iteration takes longer than a second. */
export function formatRate(rate: number): string {
  if (!(rate > 0)) return "";
  return rate >= 1
    ? `${formatNumber(Number(rate.toFixed(1)))} it/s`
    : `${formatNumber(Number((1 / rate).toFixed(2)))} s/it`;
}
