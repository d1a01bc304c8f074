// A curve in one line of text: eight block heights, the series squeezed into a fixed width.

const BLOCKS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

/**
 * More points than cells: each cell shows the mean of its slice, so a noisy loss still reads as its
 * trend. Non-finite values leave a blank cell; a flat series sits at mid height.
 */
export function drawSparkline(values: readonly number[], width: number): string {
  const cells = resample(values, Math.max(1, Math.floor(width)));
  const finite = cells.filter(Number.isFinite);
  if (finite.length === 0) return " ".repeat(cells.length);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  return cells
    .map((value) => {
      if (!Number.isFinite(value)) return " ";
      if (high === low) return BLOCKS[3];
      const level = Math.round(((value - low) / (high - low)) * (BLOCKS.length - 1));
      return BLOCKS[level];
    })
    .join("");
}

/** Means over equal slices; a series no longer than the width keeps one cell a point. */
export function resample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const cells: number[] = [];
  for (let cell = 0; cell < width; cell++) {
    const from = Math.floor((cell * values.length) / width);
    const to = Math.floor(((cell + 1) * values.length) / width);
    const slice = values.slice(from, Math.max(to, from + 1)).filter(Number.isFinite);
    cells.push(slice.length === 0 ? Number.NaN : slice.reduce((a, b) => a + b, 0) / slice.length);
  }
  return cells;
}
