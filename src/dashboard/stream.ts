// A run's log and metrics as server-sent events. Each log event's id is the byte offset just past its
// text, so a browser that reconnects (Last-Event-ID) or a page that reloads (`?from=`) gets the rest
// with no gap and no line twice. Text is cut after a line break: never inside a UTF-8 character.
import { closeSync, fstatSync, readSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { OffloadError } from "../errors.js";
import type { MetricPoint } from "../report/metrics.js";
import { openRunFileIfAny } from "../runs/files.js";
import type { RunRecord } from "../runs/record.js";
import type { LiveLog } from "./live-log.js";
import { recordChanges } from "./run-events.js";
import { isLive, type RunsView } from "./runs.js";

const KEEPALIVE_MS = 15_000;
/** How often a live run's record is read for its events (the offload that owns it saves it). */
const RECORD_POLL_MS = 1000;
/**
 * After the log's end, how long the record is watched for the owner's last save (outputs downloaded,
 * the end recorded), so the page hears how the run ended.
 */
const RECORD_SETTLE_MS = 30_000;

/** Where the reader is: Last-Event-ID (a reconnect) wins over `?from=` (a reload). */
export function readOffset(request: IncomingMessage, url: URL): number {
  const last = request.headers["last-event-id"];
  const text = (Array.isArray(last) ? last[0] : last) ?? url.searchParams.get("from") ?? "0";
  const offset = Number(text);
  return Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
}

/** Up to the last line break of `bytes` (all of it when the log is complete). */
function cutAtLine(bytes: Buffer, complete: boolean): number {
  if (complete) return bytes.length;
  for (let i = bytes.length - 1; i >= 0; i--) if (bytes[i] === 10 || bytes[i] === 13) return i + 1;
  return 0;
}

function send(response: ServerResponse, event: string, data: unknown, id?: number): void {
  const head = id === undefined ? "" : `id: ${id}\n`;
  response.write(`${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function sendMetrics(response: ServerResponse, points: readonly MetricPoint[], reset: boolean) {
  const plain = points.map(({ name, value, step, epoch }) => ({
    name,
    // JSON has no NaN: a gap in the curve.
    value: Number.isFinite(value) ? value : null,
    ...(step === undefined ? {} : { step }),
    ...(epoch === undefined ? {} : { epoch }),
  }));
  send(response, "metrics", { reset, points: plain });
}

export async function streamRun(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  view: RunsView,
  record: RunRecord,
): Promise<void> {
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  let offset = readOffset(request, url);
  const live = view.live(record);
  const records = watchRecord(response, view, record);
  if (live === undefined) {
    sendMetrics(response, await view.metrics(record), true);
    send(response, "machine", { reset: true, samples: await view.machine(record) });
    await sendLocalLog(response, view, record, offset);
    send(response, "end", { status: record.status, exitCode: record.exitCode });
    response.end();
    return;
  }
  sendMetrics(response, live.metrics, true);
  send(response, "machine", { reset: true, samples: live.machine });
  for (const event of live.events) send(response, "run-event", event);
  const flush = (complete: boolean) => {
    const bytes = live.read(offset);
    const cut = cutAtLine(bytes, complete);
    if (cut === 0) return;
    offset += cut;
    send(response, "log", bytes.subarray(0, cut).toString("utf8"), offset);
  };
  flush(live.ended);
  const keepalive = setInterval(() => response.write(": keepalive\n\n"), KEEPALIVE_MS);
  const polling = setInterval(() => void records.look(), RECORD_POLL_MS);
  let stop = () => {};
  const leave = () => {
    clearInterval(keepalive);
    clearInterval(polling);
    stop();
  };
  request.on("close", leave);
  const ended = () => {
    flush(true);
    leave();
    void records.settle().then(() => finish(response, live));
  };
  if (live.ended) return ended();
  stop = live.watch({
    onBytes: () => flush(false),
    onMetrics: (points) => sendMetrics(response, points, false),
    onMachine: (samples) => send(response, "machine", { reset: false, samples }),
    onEvent: (event) => send(response, "run-event", event),
    onEnd: ended,
  });
}

function finish(response: ServerResponse, live: LiveLog): void {
  send(response, "end", { error: live.error ?? null });
  response.end();
}

/**
 * The run's record as events: what it says on the first look, then what each later look finds
 * changed. `settle` looks until the record says the run has ended (or a while has passed).
 */
function watchRecord(response: ServerResponse, view: RunsView, first: RunRecord) {
  let last: RunRecord | undefined;
  const show = (record: RunRecord) => {
    for (const event of recordChanges(last, record)) send(response, "run-event", event);
    last = record;
  };
  show(first);
  let looking: Promise<void> | undefined;
  const look = () => {
    looking ??= view
      .record(first.id)
      .then(show, () => {})
      .finally(() => {
        looking = undefined;
      });
    return looking;
  };
  return {
    look,
    async settle() {
      const until = Date.now() + RECORD_SETTLE_MS;
      for (;;) {
        await look();
        if ((last && !isLive(last)) || Date.now() > until || response.destroyed) return;
        await new Promise((resolve) => setTimeout(resolve, RECORD_POLL_MS / 2));
      }
    },
  };
}

async function sendLocalLog(
  response: ServerResponse,
  view: RunsView,
  record: RunRecord,
  from: number,
): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openRunFileIfAny(view.logPath(record.id));
  } catch (error) {
    // A link or a folder in place of the log (E_RUN_DAMAGED): said on the page, never followed.
    if (!(error instanceof OffloadError)) throw error;
    send(response, "run-event", { kind: "error", text: `${error.code}: ${error.message}` });
    return;
  }
  if (fd === undefined) return;
  const size = fstatSync(fd).size;
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    let at = from;
    while (at < size) {
      const got = readSync(fd, buffer, 0, Math.min(buffer.length, size - at), at);
      if (got === 0) break;
      const cut = at + got === size ? got : cutAtLine(buffer.subarray(0, got), false) || got;
      at += cut;
      send(response, "log", buffer.subarray(0, cut).toString("utf8"), at);
    }
  } finally {
    closeSync(fd);
  }
}
