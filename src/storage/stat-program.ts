// The Python (standard library only) that says the size and mtime of listed files on the remote machine:
// what a results upload needs to plan its parts, and what a checkpoint compares between two looks.

export const STAT_PROGRAM = String.raw`
import json, os, sys
out = {}
for path in sys.stdin.read().split("\0"):
    if not path:
        continue
    try:
        st = os.lstat(path)
    except OSError:
        continue
    if not os.path.islink(path) and os.path.isfile(path):
        out[path] = [st.st_size, st.st_mtime_ns]
sys.stdout.write(json.dumps(out) + "\n")
`;

/** Size and mtime (ns) by path, from the program's one JSON line; malformed replies give none. */
export function parseFileStats(stdout: string): Map<string, { size: number; mtimeNs: number }> {
  const stats = new Map<string, { size: number; mtimeNs: number }>();
  const line = stdout.split("\n").find((text) => text.startsWith("{"));
  if (line === undefined) return stats;
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return stats;
  }
  if (typeof data !== "object" || data === null) return stats;
  for (const [path, value] of Object.entries(data)) {
    if (!Array.isArray(value)) continue;
    const [size, mtimeNs] = value.map(Number);
    if (Number.isInteger(size) && size !== undefined && size >= 0 && mtimeNs !== undefined)
      stats.set(path, { size, mtimeNs });
  }
  return stats;
}
