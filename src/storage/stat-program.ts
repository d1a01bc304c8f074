// The Python (standard library only) that says the size, mtime and inode of listed files on the remote
// machine: what a results upload needs to plan its parts, and what a checkpoint compares between looks.

export type FileStat = { size: number; mtimeNs: number; ino?: number };

/** Size and mtime (ns) by path, from the program's one JSON line; malformed replies give none. */
export function parseFileStats(stdout: string): Map<string, FileStat> {
  const stats = new Map<string, FileStat>();
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
    const [size, mtimeNs, ino] = value.map(Number);
    if (Number.isInteger(size) && size !== undefined && size >= 0 && mtimeNs !== undefined)
      stats.set(
        path,
        ino === undefined || !Number.isFinite(ino) ? { size, mtimeNs } : { size, mtimeNs, ino },
      );
  }
  return stats;
}

const STATS_MARK = "offload-stats";

/**
 * Passes NUL-separated records (a listing's reply) through unchanged, then, after a STATS_MARK record,
 * one JSON line: size, mtime (ns) and inode of each record that names a regular file (never through a
 * symlink). The listing and the stats of what it found in one round trip; the inode tells a file replaced
 * by rename (whole in each version) from one rewritten in place.
 */
export const LISTED_STAT_PROGRAM = String.raw`
import json, os, stat, sys
data = sys.stdin.buffer.read()
sys.stdout.buffer.write(data)
out = {}
for raw in data.split(b"\0"):
    if not raw:
        continue
    path = os.fsdecode(raw)
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        continue
    if stat.S_ISREG(st.st_mode):
        out[path] = [st.st_size, st.st_mtime_ns, st.st_ino]
sys.stdout.buffer.write(b"\0${STATS_MARK}\0" + json.dumps(out).encode() + b"\n")
`;

/** The reply of LISTED_STAT_PROGRAM: the records as they came, and the stats by record. */
export function splitListedStats(stdout: string): {
  records: string;
  stats: Map<string, FileStat>;
} {
  const mark = stdout.lastIndexOf(`\0${STATS_MARK}\0`);
  if (mark < 0) return { records: stdout, stats: new Map() };
  return {
    records: stdout.slice(0, mark + 1),
    stats: parseFileStats(stdout.slice(mark + STATS_MARK.length + 2)),
  };
}
