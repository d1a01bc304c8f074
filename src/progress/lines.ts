// Turning a byte stream's text chunks into clean lines: `\n` and `\r` breaks, ANSI codes removed.

// CSI (colors, `\x1b[K`, cursor moves) and OSC (titles, hyperlinks) sequences, plus backspaces
// that Keras writes to redraw its bar on a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are the point
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\b]/g;
/** A line longer than this without a break is not a log line worth keeping whole (binary, a dump). */
const MAX_LINE = 1 << 20;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

export interface LineSplitter {
  push(chunk: string): string[];
  end(): string[];
}

/** Keeps the unfinished tail between chunks, so a bar split across two reads parses once complete. */
export function createLineSplitter(): LineSplitter {
  let pending = "";
  return {
    push(chunk) {
      const parts = (pending + chunk).split(/\r\n|\r|\n/);
      pending = parts.pop() ?? "";
      if (pending.length > MAX_LINE) pending = "";
      return parts.map(stripAnsi);
    },
    end() {
      const last = pending;
      pending = "";
      return last === "" ? [] : [stripAnsi(last)];
    },
  };
}
