// NUL-separated name lists (tar's `-T -`, rsync's lists, the sync manifest): the fast path for UTF-8
// names and the per-name path for names that are not UTF-8 give the same bytes, and read back whole.
import { describe, expect, it } from "vitest";
import { decodeNulList, encodeNulList, encodePath, isPlainName } from "../../src/sync/raw-names.js";

/** The list as one Buffer per name would make it: what the fast path must equal byte for byte. */
function slowList(paths: readonly string[]): Buffer {
  return Buffer.concat(paths.flatMap((path) => [encodePath(path), Buffer.from([0])]));
}

const UTF8 = ["a.py", "dir/caf\u00e9.txt", "emoji \u{1f600}/x", "new\nline", "-rf", "it's"];

describe("NUL lists", () => {
  it("encodes UTF-8 names as their bytes, each NUL-terminated", () => {
    expect(encodeNulList(UTF8)).toEqual(slowList(UTF8));
    expect(encodeNulList([])).toEqual(Buffer.alloc(0));
  });

  it("keeps the exact bytes of a name that is not UTF-8 among others", () => {
    const mixed = [...UTF8, "caf\udce9.txt"];
    const bytes = encodeNulList(mixed);
    expect(bytes).toEqual(slowList(mixed));
    expect(bytes.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e]))).toBe(true);
    expect(decodeNulList(bytes)).toEqual(mixed);
  });

  it("reads back what it wrote, an unterminated last name too, skipping empty ones", () => {
    expect(decodeNulList(encodeNulList(UTF8))).toEqual(UTF8);
    expect(decodeNulList(Buffer.from("a\0\0b/c"))).toEqual(["a", "b/c"]);
    expect(decodeNulList(Buffer.concat([Buffer.from("x\0"), Buffer.from([0xff])]))).toEqual([
      "x",
      "\udcff",
    ]);
  });

  it("tells a name that is its UTF-8 text from one carrying escaped bytes", () => {
    for (const name of UTF8) expect(isPlainName(name)).toBe(true);
    expect(isPlainName("caf\udce9.txt")).toBe(false);
  });
});
