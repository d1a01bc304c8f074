// Ultralytics YOLO training tables: the header names the columns of the epoch rows under it.
import { readBar } from "./tqdm.js";
import type { LineParser, MetricEvent, ParsedEvent } from "./types.js";
import { parseValue } from "./values.js";

// `Epoch GPU_mem box_loss cls_loss dfl_loss Instances Size` (and seg/pose/cls/v5 variants).
const TRAIN_HEADER = /^\s*Epoch\s+GPU_mem\s+((?:[A-Za-z_]\w*\s+)*)Instances\s+Size\s*$/;
// `Class Images Instances Box(P R mAP50 mAP50-95): 100%|...` — the validation bar's description.
const VAL_HEADER = /^\s*Class\s+Images\s+Instances\s+(.+?\)):/;
const VAL_ROW = /^\s*all\s+\d+\s+\d+((?:\s+\S+)+)\s*$/;
/** Ultralytics' results.csv names, so the numbers match the files the run brings home. */
const VAL_NAMES: Record<string, string> = { P: "precision", R: "recall" };
const GROUP_SUFFIX: Record<string, string> = { Box: "B", Mask: "M", Pose: "P", OBB: "B" };

// `  8/55  9.03G …`: a row starts with epoch/total and the GPU memory, header or not.
const ROW_START = /^(\d+)\/(\d+)$/;
const GPU_MEM = /^\d+(?:\.\d+)?[GMK]?$/;

/**
 * Stateful: the header names a row's loss columns, and the validation summary under a row belongs
 * to that row's epoch. A row seen before any header (a log joined mid-run) still gives the epoch.
 */
export function createYoloParser(): LineParser {
  let lossColumns: string[] | undefined;
  let valColumns: string[] | undefined;
  let epoch: number | undefined;
  return (line) => {
    const header = TRAIN_HEADER.exec(line);
    if (header !== null) {
      lossColumns = (header[1] ?? "").trim().split(/\s+/).filter(Boolean);
      return [];
    }
    const val = VAL_HEADER.exec(line);
    if (val?.[1] !== undefined) {
      valColumns = nameValColumns(val[1]);
      return [];
    }
    if (valColumns !== undefined) {
      const row = VAL_ROW.exec(line);
      if (row?.[1] !== undefined) return readValRow(row[1], valColumns, epoch);
    }
    const events = readEpochRow(line, lossColumns);
    const progress = events?.[0];
    if (progress?.type === "progress") epoch = progress.epoch;
    return events;
  };
}

/** `Box(P R mAP50 mAP50-95) Mask(P R ...)` → `metrics/precision(B)`, …, `metrics/mAP50-95(M)`. */
function nameValColumns(text: string): string[] {
  const names: string[] = [];
  for (const group of text.matchAll(/(\w+)\(([^)]*)\)/g)) {
    const suffix = GROUP_SUFFIX[group[1] ?? ""] ?? group[1];
    for (const column of (group[2] ?? "").trim().split(/\s+/)) {
      names.push(`metrics/${VAL_NAMES[column] ?? column}(${suffix})`);
    }
  }
  return names;
}

function readValRow(
  text: string,
  columns: string[],
  epoch: number | undefined,
): ParsedEvent[] | null {
  const values = text.trim().split(/\s+/).map(parseValue);
  if (values.length !== columns.length) return null;
  return values.flatMap((value, i) => {
    const name = columns[i];
    if (value === undefined || name === undefined) return [];
    const event: MetricEvent = { type: "metric", name, value, source: "yolo" };
    if (epoch !== undefined) event.epoch = epoch;
    return [event];
  });
}

/** `  1/100  2.05G  1.234  2.345  1.456  32  640: 100%|██| 8/8 [...]` */
function readEpochRow(line: string, columns: string[] | undefined): ParsedEvent[] | null {
  const bar = readBar(line);
  if (bar === null) return null;
  const cells = bar.desc.split(/\s+/);
  const epoch = ROW_START.exec(cells[0] ?? "");
  // Epoch, GPU memory, one cell per loss, instances, image size.
  if (epoch === null || !GPU_MEM.test(cells[1] ?? "") || cells.length < 5) return null;
  if (Number(epoch[1]) > Number(epoch[2])) return null;
  const progress = { ...bar.progress, epoch: Number(epoch[1]), epochs: Number(epoch[2]) };
  progress.source = "yolo";
  // Without the header (or with one for other columns) the losses have no names: progress only.
  if (columns === undefined || cells.length !== columns.length + 4) return [progress];
  const metrics: MetricEvent[] = [];
  columns.forEach((name, i) => {
    const value = parseValue(cells[i + 2] ?? "");
    if (value !== undefined) {
      metrics.push({
        type: "metric",
        name: `train/${name}`,
        value,
        epoch: progress.epoch,
        source: "yolo",
      });
    }
  });
  return [progress, ...metrics];
}
