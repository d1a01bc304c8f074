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

/**
 * Keeps the unfinished tail between chunks, so a bar split across two reads parses once complete.
 * With `keep` (a global, multiline regex matching whole lines), only the lines it matches come out,
 * found by one native scan of the chunk: a log of millions of short lines costs no work per line.
 */
export function createLineSplitter(keep?: RegExp): LineSplitter {
  let pending = "";
  return {
    push(chunk) {
      const text = pending + chunk;
      const end = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
      pending = text.slice(end + 1);
      if (pending.length > MAX_LINE) pending = "";
      if (end < 0) return [];
      const complete = text.slice(0, end + 1);
      if (keep !== undefined) return (complete.match(keep) ?? []).map(stripAnsi);
      const lines = complete.split(/\r\n|\r|\n/);
      lines.pop();
      return lines.map(stripAnsi);
    },
    end() {
      const last = pending;
      pending = "";
      if (last === "") return [];
      if (keep !== undefined && (last.match(keep) ?? []).length === 0) return [];
      return [stripAnsi(last)];
    },
  };
}
