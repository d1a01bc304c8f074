// Reads the markers the run protocol's scripts print on stderr (MARK in layout.ts) back into data: the
// parser sits beside the scripts that print them, so a marker's wording changes in one folder.
import { MARK, RUN_ID_PATTERN } from "./layout.js";

/** When the job started and ended by the host's clock (epoch ms), as the launcher stamped them. */
export interface HostTimes {
  startedMs?: number;
  endedMs?: number;
}

/** How a run ended, as the host said it: `displacedBy` is the run whose `run --force` stopped it. */
export type HostEnd =
  | { kind: "exit"; code: number; displacedBy?: string }
  | { kind: "lost" }
  | { kind: "missing" };

export interface Markers {
  launchedPid?: number;
  /** The remote dir's physical path when the job launched (`pwd -P`), where the launch said it. */
  launchedDir?: string;
  end?: HostEnd;
  /** `<run id> <epoch seconds>` of the run that holds the lock. */
  locked?: string;
  reclaimed?: string;
  forced?: string;
  /** KiB free on the remote dir's file system, where a script said. */
  diskFreeKiB?: number;
  /** The run whose `--force` stopped this one. */
  displaced?: string;
  /** The path a prepare could not write (the remote dir, its `.offload`). */
  unwritable?: string;
  /** The follow script started on the host: the connection was up. */
  following?: boolean;
  /** A held launch left its log to a stream of its own (MARK.handedOff). */
  handedOff?: boolean;
  times?: HostTimes;
}

/**
 * An exit status as a run's `exit` file holds it: 0 to 255 (128 + a signal's number included). Anything
 * else (a job that wrote the file itself, a damaged disk) is no status, and the run reads as lost.
 */
export function readExitCode(text: string): number | undefined {
  return /^[0-9]{1,3}$/.test(text) && Number(text) <= 255 ? Number(text) : undefined;
}

/** Reads the markers the remote scripts print on stderr. */
export function readMarkers(stderr: string): Markers {
  const found: Markers = {};
  const after = (line: string, mark: string) =>
    line.startsWith(`${mark} `) ? line.slice(mark.length + 1).trim() : undefined;
  const lines = stderr.split("\n");
  for (const [index, line] of lines.entries()) {
    // Read once its line has ended: a reader that saw half of it must not take the pid without the dir.
    const launched = index < lines.length - 1 ? after(line, MARK.launched) : undefined;
    if (launched !== undefined) {
      const [pid = "", ...dir] = launched.split(" ");
      found.launchedPid = Number(pid);
      if (dir.join(" ").startsWith("/")) found.launchedDir = dir.join(" ");
    }
    for (const key of ["locked", "reclaimed", "forced", "displaced", "unwritable"] as const) {
      const text = after(line, MARK[key]);
      if (text !== undefined) found[key] = text;
    }
    const free = after(line, MARK.diskFree);
    if (free !== undefined && /^[0-9]+$/.test(free)) found.diskFreeKiB = Number(free);
    if (line.trim() === MARK.following) found.following = true;
    if (line.trim() === MARK.handedOff) found.handedOff = true;
    const times = after(line, MARK.times);
    if (times !== undefined) found.times = readTimes(times);
    const value = after(line, MARK.exit);
    if (value === undefined) continue;
    const code = readExitCode(value);
    if (code !== undefined) found.end = { kind: "exit", code };
    else found.end = value === "missing" ? { kind: "missing" } : { kind: "lost" };
  }
  if (found.end?.kind === "exit" && found.displaced && RUN_ID_PATTERN.test(found.displaced))
    found.end.displacedBy = found.displaced;
  return found;
}

/** `<start ms> <end ms>`, either `-` when the host has no stamp (a run launched by an older offload). */
function readTimes(text: string): HostTimes {
  const [start, end] = text.split(" ");
  const times: HostTimes = {};
  if (start && /^[0-9]+$/.test(start)) times.startedMs = Number(start);
  if (end && /^[0-9]+$/.test(end)) times.endedMs = Number(end);
  return times;
}

/** Whether a stderr line is one of our markers rather than something ssh or the host said. */
export function isMarkerLine(line: string): boolean {
  return Object.values(MARK).some((mark) => line.startsWith(mark));
}
