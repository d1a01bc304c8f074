// A run's log as the dashboard serves it: every byte of the host's output.log from offset 0, held in
// memory while the server follows the run itself (as `logs -f` does: no follower mark, no store write),
// with the metrics the progress parsers read out of it, handed to whoever watches.
import { StringDecoder } from "node:string_decoder";
import type { Reporter } from "../events.js";
import { createLogParser } from "../progress/index.js";
import type { MetricPoint } from "../report/metrics.js";
import type { RunRecord } from "../runs/record.js";
import type { RunStore } from "../runs/store.js";
import { type ShowLogRequest, showLog } from "../session/logs.js";
import { feedSamples, type MachineSample } from "../session/samples.js";
import { followEvent, type PageEvent } from "./run-events.js";

export interface LiveWatcher {
  /** New bytes: `at` is the offset of the chunk's first byte in the host's log. */
  onBytes(chunk: Buffer, at: number): void;
  onMetrics(points: MetricPoint[]): void;
  /** New machine samples of the host (machine.txt). */
  onMachine?(samples: MachineSample[]): void;
  /** An event of the follow itself worth a line on the page (a reconnect). */
  onEvent?(event: PageEvent): void;
  onEnd(error?: string): void;
}

export interface LiveLog {
  readonly size: number;
  readonly ended: boolean;
  readonly error: string | undefined;
  /** When the follow ended (ms since the epoch), 0 while it goes on. */
  readonly endedAt: number;
  /** Bytes [from, size). */
  read(from: number): Buffer;
  readonly metrics: readonly MetricPoint[];
  readonly machine: readonly MachineSample[];
  /** The follow's own events so far (its reconnects). */
  readonly events: readonly PageEvent[];
  watch(watcher: LiveWatcher): () => void;
  close(): void;
}

export interface FollowOptions {
  store: RunStore;
  record: RunRecord;
  host: ShowLogRequest["host"];
  patterns: readonly string[];
}

/** Starts following a run in the background; the returned log grows until the run ends. */
export function followLive(options: FollowOptions): LiveLog {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  let error: string | undefined;
  let endedAt = 0;
  const metrics: MetricPoint[] = [];
  const machine: MachineSample[] = [];
  const events: PageEvent[] = [];
  const watchers = new Set<LiveWatcher>();
  const parser = createLogParser({ patterns: options.patterns.map((pattern) => ({ pattern })) });
  const decoder = new StringDecoder("utf8");
  const abort = new AbortController();

  const write = (bytes: Uint8Array) => {
    const chunk = Buffer.from(bytes);
    const at = size;
    chunks.push(chunk);
    size += chunk.length;
    const points: MetricPoint[] = [];
    for (const event of parser.push(decoder.write(chunk))) {
      if (event.type !== "metric") continue;
      const { type: _type, ...metric } = event;
      points.push({ time: new Date().toISOString(), ...metric });
    }
    metrics.push(...points);
    for (const watcher of watchers) {
      watcher.onBytes(chunk, at);
      if (points.length > 0) watcher.onMetrics(points);
    }
  };
  // The page lists the follow's reconnects; the rest of its events are the terminal's business.
  const report: Reporter = (event) => {
    const shown = followEvent(event);
    if (shown === undefined) return;
    events.push(shown);
    for (const watcher of watchers) watcher.onEvent?.(shown);
  };
  void showLog({
    store: options.store,
    record: options.record,
    host: options.host,
    follow: true,
    write,
    samples: feedSamples((samples) => {
      machine.push(...samples);
      for (const watcher of watchers) watcher.onMachine?.(samples);
    }),
    report,
    signal: abort.signal,
  })
    .catch((caught: unknown) => {
      error = caught instanceof Error ? caught.message : String(caught);
    })
    .finally(() => {
      ended = true;
      endedAt = Date.now();
      for (const watcher of watchers) watcher.onEnd(error);
    });

  return {
    get size() {
      return size;
    },
    get ended() {
      return ended;
    },
    get error() {
      return error;
    },
    get endedAt() {
      return endedAt;
    },
    get metrics() {
      return metrics;
    },
    get machine() {
      return machine;
    },
    get events() {
      return events;
    },
    read(from) {
      const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (whole === undefined) return Buffer.alloc(0);
      if (chunks.length > 1) chunks.splice(0, chunks.length, whole);
      return whole.subarray(Math.min(from, whole.length));
    },
    watch(watcher) {
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    close() {
      abort.abort();
    },
  };
}
