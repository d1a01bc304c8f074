// File names that are not valid UTF-8: kept as JS strings that carry their exact bytes, so a scan can
// list them and tar can still be given the very bytes that name the file ("surrogate escapes").
import { isUtf8 } from "node:buffer";

const ESCAPED = /[\udc80-\udcff]/;

/** A directory entry's name: its UTF-8 text when valid, else each byte >= 0x80 as U+DC80..U+DCFF. */
export function decodeName(raw: Buffer): string {
  const text = raw.toString("utf8");
  if (Buffer.from(text, "utf8").equals(raw)) return text;
  let escaped = "";
  for (const byte of raw) escaped += String.fromCharCode(byte < 0x80 ? byte : 0xdc00 + byte);
  return escaped;
}

/** The bytes a path names on disk: the inverse of `decodeName`, and plain UTF-8 for every other path. */
export function encodePath(path: string): Buffer {
  if (!ESCAPED.test(path)) return Buffer.from(path, "utf8");
  const parts: Buffer[] = [];
  for (const char of path) {
    const code = char.charCodeAt(0);
    parts.push(
      code >= 0xdc80 && code <= 0xdcff ? Buffer.from([code - 0xdc00]) : Buffer.from(char, "utf8"),
    );
  }
  return Buffer.concat(parts);
}

/** Whether a path names its file by UTF-8 text alone (no escaped bytes): it can go to fs calls as is. */
export function isPlainName(path: string): boolean {
  return !ESCAPED.test(path);
}

/** Whether a lossy UTF-8 listing may have mangled a name (then the directory is read as bytes). */
export function mayBeMangled(name: string): boolean {
  return name.includes("\ufffd");
}

const NUL = Buffer.from([0]);

/**
 * Paths, each NUL-terminated, as the bytes that name them on disk (tar's `-T -`, rsync's lists, the sync
 * manifest). One encode of the joined text where no name carries escaped bytes: a Buffer per path and
 * their concat took 30-60 ms for 5,000 paths (measured), the join under 1 ms.
 */
export function encodeNulList(paths: readonly string[]): Buffer {
  if (paths.length === 0) return Buffer.alloc(0);
  const text = `${paths.join("\0")}\0`;
  if (!ESCAPED.test(text)) return Buffer.from(text, "utf8");
  return Buffer.concat(paths.flatMap((path) => [encodePath(path), NUL]));
}

/** The names in a NUL-separated list (the last may be unterminated; empty ones are skipped). */
export function decodeNulList(raw: Buffer): string[] {
  if (isUtf8(raw))
    return raw
      .toString("utf8")
      .split("\0")
      .filter((name) => name !== "");
  const names: string[] = [];
  for (let start = 0; start < raw.length; ) {
    const end = raw.indexOf(0, start);
    const stop = end < 0 ? raw.length : end;
    if (stop > start) names.push(decodeName(raw.subarray(start, stop)));
    start = stop + 1;
  }
  return names;
}
