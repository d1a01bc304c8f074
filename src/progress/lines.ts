// Cleaning a log line for the parsers: ANSI codes and backspaces removed.

// CSI (colors, `\x1b[K`, cursor moves) and OSC (titles, hyperlinks) sequences, plus backspaces
// that Keras writes to redraw its bar on a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are the point
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\b]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
