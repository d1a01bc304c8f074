// The typed events that log parsers turn training output into.

/** Which parser recognised a line; lets a reader tell a framework's own numbers from a guess. */
export type ParserName =
  | "offload"
  | "json"
  | "hf"
  | "result"
  | "yolo"
  | "keras"
  | "tqdm"
  | "epoch"
  | "pytorch"
  | "columns"
  | "pattern";

/** Where training stands. Numbers are as the framework prints them (Lightning counts epochs from 0). */
export interface ProgressEvent {
  type: "progress";
  epoch?: number;
  epochs?: number;
  step?: number;
  steps?: number;
  percent?: number;
  /** Iterations per second. */
  rate?: number;
  etaSeconds?: number;
  source: ParserName;
}

/** One named number. NaN and ±Infinity only appear when the log itself printed them. */
export interface MetricEvent {
  type: "metric";
  name: string;
  value: number;
  step?: number;
  epoch?: number;
  source: ParserName;
}

export type ParsedEvent = ProgressEvent | MetricEvent;

/**
 * Reads one log line. `null` means "not my format", so the next parser may try;
 * an empty array means "mine, and nothing worth reporting" (a header, a validation bar).
 */
export type LineParser = (line: string) => ParsedEvent[] | null;

/** A user's regex from config: each numeric named group becomes a metric, except the progress ones. */
export interface UserPattern {
  pattern: string;
  flags?: string;
}
