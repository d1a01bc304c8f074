// `--json`: one JSON object a line on stdout, the log as one `output` event a line. A job prints lines
// by the million, so the log's bytes are cut into lines as bytes (a line break is never inside a UTF-8
// character) and written a batch at a time: a `run --json` of a fast log held 140-150 MB (peak RSS) while
// each line was its own write, its chunk copied and decoded whole (1 MB strings, swept only by a full
// GC); the log to /dev/null holds 70 MB. A slow reader is waited for (stdout-now.ts), never queued for.
import type { Reporter, RunEvent } from "../events.js";
import { describeEvent, isNotice } from "./event-lines.js";
import type { Output } from "./render.js";
import { createStdoutNow } from "./stdout-now.js";

/** Characters of JSON lines gathered before one write: small enough to die young in V8's heap. */
const BATCH_CHARS = 16 * 1024;
/** Bytes of an unfinished line kept: past them the line goes out in pieces, each but the last `more`. */
export const MAX_JSON_LINE = 1024 * 1024;

/** Where a line cut at `at` bytes ends whole: not inside a UTF-8 character (continuation bytes 10xxxxxx). */
function cutAtCharacter(bytes: Buffer, at: number): number {
  let cut = at;
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut === 0 ? at : cut;
}

export function createJsonReporter(out: Output): Reporter {
  const write = createStdoutNow(out);
  let partial: Buffer = Buffer.alloc(0);
  let batch = "";
  const flush = () => {
    if (batch === "") return;
    write(batch);
    batch = "";
  };
  const add = (payload: object) => {
    batch += `${JSON.stringify({ time: new Date().toISOString(), ...payload })}\n`;
    if (batch.length >= BATCH_CHARS) flush();
  };
  const addLine = (bytes: Buffer, more = false) =>
    add({ type: "output", line: bytes.toString("utf8"), ...(more ? { more } : {}) });
  const addLog = (data: Uint8Array) => {
    // A view, not a copy: the bytes are lent for this call (events.ts), and only the tail is kept.
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let start = 0;
    for (let end = bytes.indexOf(10); end >= 0; end = bytes.indexOf(10, start)) {
      const piece = bytes.subarray(start, end);
      addLine(partial.length === 0 ? piece : Buffer.concat([partial, piece]));
      partial = Buffer.alloc(0);
      start = end + 1;
    }
    if (start < bytes.length) partial = Buffer.concat([partial, bytes.subarray(start)]);
    // A line that never ends (a bar redrawn with \r for hours) would grow without bound.
    while (partial.length > MAX_JSON_LINE) {
      const cut = cutAtCharacter(partial, MAX_JSON_LINE);
      addLine(partial.subarray(0, cut), true);
      partial = Buffer.from(partial.subarray(cut));
    }
  };
  return (event) => {
    // A bar's worth of updates would flood a program's input; `synced`/`downloaded` say the outcome.
    // Machine samples live in the run folder (machine.txt): a line every few seconds is noise here.
    if (event.type === "transfer" || event.type === "machine") return;
    if (event.type === "output") addLog(event.data);
    else {
      if (event.type === "finished" && partial.length > 0) {
        addLine(partial);
        partial = Buffer.alloc(0);
      }
      add(eventJson(event));
    }
    // Each event is out before the reporter returns: a program reads it as it happens.
    flush();
  };
}

/**
 * An event as a JSON object: its type and fields under stable names; a notice also carries `message`,
 * the sentence a person sees (for showing, not for parsing: its words may change).
 */
export function eventJson(event: Exclude<RunEvent, { type: "output" }>): object {
  if (event.type === "env-output")
    return { type: "env-output", text: Buffer.from(event.data).toString("utf8") };
  if (!isNotice(event)) return event;
  // `type` first for a reader's eye; an event's own `message` (an error's) stays its own.
  const { type, ...fields } = event;
  return { type, message: describeEvent(event), ...fields };
}
