// What a run's host did while the job ran, from its machine samples: CPU, memory and each GPU as
// curves over the run's seconds, with their mean and peak (pure; the caller parses machine.txt).

/** A machine sample as remote/samples.ts reads it (the fields a report uses). */
export interface MachineSampleInput {
  time: number;
  cpuPercent?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  gpus: readonly {
    index: number;
    utilizationPercent?: number;
    memoryUsedMiB?: number;
    memoryTotalMiB?: number;
  }[];
}

/** One curve: a percent over the run's seconds (null where a sample had no value). */
export interface MachineSeries {
  /** `cpu %`, `memory %`, `gpu0 %`, `gpu0 memory %`. */
  label: string;
  y: (number | null)[];
  mean: number | null;
  max: number | null;
}

export interface MachineSummary {
  samples: number;
  /** Seconds since the first sample, one a sample. */
  x: number[];
  series: MachineSeries[];
  memoryTotalBytes?: number;
  /** The most memory used at once (bytes). */
  memoryPeakBytes?: number;
  gpus: { index: number; memoryTotalMiB?: number; memoryPeakMiB?: number }[];
}

function percentOf(used: number | undefined, total: number | undefined): number | null {
  if (used === undefined || total === undefined || total <= 0) return null;
  return Math.round((1000 * used) / total) / 10;
}

function seriesOf(label: string, y: (number | null)[]): MachineSeries {
  const values = y.filter((v): v is number => v !== null);
  const mean =
    values.length === 0
      ? null
      : Math.round((10 * values.reduce((a, b) => a + b, 0)) / values.length) / 10;
  return { label, y, mean, max: values.length === 0 ? null : Math.max(...values) };
}

function peak(values: readonly (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
}

/** Undefined for a run with no samples (sampling off, a run from before samples, a short job). */
export function summarizeMachine(
  samples: readonly MachineSampleInput[],
): MachineSummary | undefined {
  const first = samples[0];
  if (first === undefined) return undefined;
  const x = samples.map((s) => Math.round((s.time - first.time) / 100) / 10);
  const series = [
    seriesOf(
      "cpu %",
      samples.map((s) => s.cpuPercent ?? null),
    ),
    seriesOf(
      "memory %",
      samples.map((s) => percentOf(s.memoryUsedBytes, s.memoryTotalBytes)),
    ),
  ];
  const indexes = [...new Set(samples.flatMap((s) => s.gpus.map((g) => g.index)))].sort(
    (a, b) => a - b,
  );
  const gpus: MachineSummary["gpus"] = [];
  for (const index of indexes) {
    const rows = samples.map((s) => s.gpus.find((g) => g.index === index));
    series.push(
      seriesOf(
        `gpu${index} %`,
        rows.map((g) => g?.utilizationPercent ?? null),
      ),
      seriesOf(
        `gpu${index} memory %`,
        rows.map((g) => percentOf(g?.memoryUsedMiB, g?.memoryTotalMiB)),
      ),
    );
    const total = peak(rows.map((g) => g?.memoryTotalMiB));
    const used = peak(rows.map((g) => g?.memoryUsedMiB));
    gpus.push({
      index,
      ...(total === undefined ? {} : { memoryTotalMiB: total }),
      ...(used === undefined ? {} : { memoryPeakMiB: used }),
    });
  }
  const memoryTotal = peak(samples.map((s) => s.memoryTotalBytes));
  const memoryPeak = peak(samples.map((s) => s.memoryUsedBytes));
  return {
    samples: samples.length,
    x,
    series,
    ...(memoryTotal === undefined ? {} : { memoryTotalBytes: memoryTotal }),
    ...(memoryPeak === undefined ? {} : { memoryPeakBytes: memoryPeak }),
    gpus,
  };
}
