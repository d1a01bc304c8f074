// Which lines of a log a built-in parser could claim, found by byte scans of a whole chunk: a log
// streams millions of lines a second, and a parser's look at each one would be most of offload's work.

/**
 * What every line a built-in parser claims holds (stream.ts lists the parsers), read off their regexes:
 * - `{`: a JSON line, a Hugging Face dict, a helper report glued to a bar (`@offload {`);
 * - `|` or a tab: the columns parser splits on nothing else;
 * - ESC or a backspace: colour codes and Keras' redraws are stripped before parsing, so the bytes seen
 *   here are not the line parsed; such a line is always looked at;
 * - a digit, spaces, then `/`: every count (`3/10`, `450/1000`, `Epoch [1/20]`, `12/469`);
 * - a digit, spaces, then `of`: `epoch 2 of 10`;
 * - ` set:` (any case): `Test set: Average loss…`;
 * - `RESULT_`, `GPU_mem`, `Class`, `Num Epochs`, `Total optimization steps`: RESULT lines, YOLO's
 *   headers, the Trainer's totals; `all` then spaces and a digit: a YOLO validation row, which the
 *   parser reads only after a `Class Images …` header, so `all` is looked for only once `Class` was.
 * "Spaces" here are the bytes `\s` may stand for inside a line: tab, VT, FF, space, and any byte of a
 * multi-byte character (a no-break space). A line with none of these yields no event and sets no state.
 */
const ALWAYS = [0x7b, 0x7c, 0x09, 0x1b, 0x08];
const WORDS = ["RESULT_", "GPU_mem", "Num Epochs", "Total optimization steps"].map((w) =>
  Buffer.from(w, "latin1"),
);
const CLASS = Buffer.from("Class", "latin1");
const ALL = Buffer.from("all", "latin1");
const SLASH = 0x2f;
const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;

function isBreak(byte: number | undefined): boolean {
  return byte === LF || byte === CR;
}

function isGap(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0b || byte === 0x0c || (byte ?? 0) >= 0x80;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/** A digit before `at`, past any spaces (`450/1000`, `5 / 10`, `2 of`). */
function hasDigitBefore(bytes: Uint8Array, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && isGap(bytes[i])) i--;
  return isDigit(bytes[i]);
}

/** `all`, at least one space, a digit. */
function isValRow(bytes: Uint8Array, at: number): boolean {
  let i = at + ALL.length;
  const gapStart = i;
  while (isGap(bytes[i])) i++;
  return i > gapStart && isDigit(bytes[i]);
}

/** ` set:` in any case, ending at the colon `at`. */
function isSetColon(bytes: Uint8Array, at: number): boolean {
  if (bytes[at - 4] !== 0x20) return false;
  const word = ((bytes[at - 3] ?? 0) | 0x20) << 16;
  return (word | (((bytes[at - 2] ?? 0) | 0x20) << 8) | ((bytes[at - 1] ?? 0) | 0x20)) === 0x736574;
}

/** `of` in any case ending at `at` (the `f`), after a digit and spaces. */
function isCountOf(bytes: Uint8Array, at: number): boolean {
  return ((bytes[at - 1] ?? 0) | 0x20) === 0x6f && hasDigitBefore(bytes, at - 1);
}

export interface LineGate {
  /**
   * The lines in `bytes[start, end)` that a built-in parser could claim, as `[lineStart, lineEnd)`
   * pairs in order (a line ends before its `\n` or `\r`; `end` is just past a break or the text's end).
   */
  find(bytes: Buffer, start: number, end: number): number[];
}

/** A gate for one log: stateful as the YOLO parser is, since its rows count only after its header. */
export function createLineGate(): LineGate {
  let afterClass = false;
  return {
    find(bytes, start, end) {
      // A view of the region: a search for a byte it lacks must not read on to the buffer's end.
      const view = bytes.subarray(start, end);
      const starts = new Set<number>();
      const everyLineWith = (needle: number | Buffer, accept?: (at: number) => boolean) => {
        let found = false;
        let at = view.indexOf(needle);
        while (at >= 0) {
          if (accept === undefined || accept(at)) {
            found = true;
            let s = at;
            while (s > 0 && !isBreak(view[s - 1])) s--;
            starts.add(s);
            // One hit marks the line: go on from its end.
            while (at < view.length && !isBreak(view[at])) at++;
          }
          at = view.indexOf(needle, at + 1);
        }
        return found;
      };
      for (const byte of ALWAYS) everyLineWith(byte);
      for (const word of WORDS) everyLineWith(word);
      if (everyLineWith(CLASS)) afterClass = true;
      everyLineWith(SLASH, (at) => hasDigitBefore(view, at));
      everyLineWith(0x66, (at) => isCountOf(view, at));
      everyLineWith(0x46, (at) => isCountOf(view, at));
      everyLineWith(COLON, (at) => isSetColon(view, at));
      if (afterClass) everyLineWith(ALL, (at) => isValRow(view, at));
      return toRanges(view, [...starts], start);
    },
  };
}

/** Line starts in `view` (any order, no duplicates) → `[start, end)` pairs in order, shifted by `offset`. */
export function toRanges(view: Uint8Array, starts: number[], offset: number): number[] {
  starts.sort((a, b) => a - b);
  const ranges: number[] = [];
  for (const s of starts) {
    let e = s;
    while (e < view.length && !isBreak(view[e])) e++;
    ranges.push(offset + s, offset + e);
  }
  return ranges;
}
