// rsync command lines (pure) and the parsing of its --stats summary.
import type { RemoteShell } from "../transport/types.js";

/** rsync's whole-transfer progress (rsync >= 3.1 on this machine: it is the client that prints it). */
export const RSYNC_PROGRESS = "--info=progress2";

export interface TransferProgress {
  bytes: number;
  percent: number;
  bytesPerSecond?: number;
  etaSeconds?: number;
}

const RATE_UNITS: Record<string, number> = { "": 1, k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/**
 * The last progress2 report in `text` (`  32,768,000  31%   31.25MB/s    0:00:02 (xfr#1, to-chk=2/5)`,
 * redrawn with \r); undefined where there is none.
 */
export function parseRsyncProgress(text: string): TransferProgress | undefined {
  const reports = text.split(/[\r\n]/).filter((line) => /^\s*[\d,]+\s+\d+%/.test(line));
  const last = reports.at(-1);
  if (last === undefined) return undefined;
  const match =
    /^\s*([\d,]+)\s+(\d+)%\s+(?:([\d.]+)([kKMG]?)B\/s)?\s*(?:(\d+):(\d\d):(\d\d))?/.exec(last);
  if (match === null) return undefined;
  const [, bytes = "0", percent = "0", rate, unit = "", h, m, s] = match;
  const progress: TransferProgress = {
    bytes: Number(bytes.replaceAll(",", "")),
    percent: Number(percent),
  };
  if (rate !== undefined) progress.bytesPerSecond = Number(rate) * (RATE_UNITS[unit] ?? 1);
  if (h !== undefined && m !== undefined && s !== undefined)
    progress.etaSeconds = Number(h) * 3600 + Number(m) * 60 + Number(s);
  return progress;
}

export interface TransferStats {
  files: number;
  bytes: number;
}

/**
 * rsync's quick check compares whole seconds by default: a same-size edit within the second of the last
 * sync (a quick fix, then the run again) would be skipped. -1 compares nanoseconds (receiver >= 3.1.3).
 */
const EXACT_TIMES = "--modify-window=-1";

/** Copies the NUL-separated relative paths given on stdin from `source` to `dest` (both directories). */
export function buildRsyncFilesArgv(
  shell: RemoteShell,
  source: string,
  dest: string,
  options: { links?: boolean; progress?: boolean } = {},
): string[] {
  const argv = ["rsync", "-a", "-s", EXACT_TIMES, "--stats", "--files-from=-", "--from0"];
  // Downloads take no symlink at all (`--no-links`): one that arrived could name a file on this machine.
  if (options.links === false) argv.push("--no-links");
  if (options.progress) argv.push(RSYNC_PROGRESS);
  if (shell.rsh !== undefined) argv.push("-e", shell.rsh);
  argv.push(`${source}/`, `${dest}/`);
  return argv;
}

/** Copies the tree at `source` to `dest`, skipping the NUL-separated exclude patterns given on stdin. */
export function buildRsyncTreeArgv(
  shell: RemoteShell,
  source: string,
  dest: string,
  options: { progress?: boolean } = {},
): string[] {
  const argv = [
    "rsync",
    "-a",
    "-s",
    EXACT_TIMES,
    "--stats",
    "--no-devices",
    "--no-specials",
    "--from0",
    "--exclude-from=-",
  ];
  if (options.progress) argv.push(RSYNC_PROGRESS);
  if (shell.rsh !== undefined) argv.push("-e", shell.rsh);
  argv.push(`${source}/`, `${dest}/`);
  return argv;
}

/** Copies one file or directory, as `rsync -a source dest`. */
export function buildRsyncOneArgv(
  shell: RemoteShell,
  source: string,
  dest: string,
  options: { links?: boolean } = {},
): string[] {
  const argv = ["rsync", "-a", "-s", EXACT_TIMES, "--stats"];
  if (options.links === false) argv.push("--no-links");
  if (shell.rsh !== undefined) argv.push("-e", shell.rsh);
  argv.push(source, dest);
  return argv;
}

function readNumber(text: string, label: string): number {
  const match = new RegExp(`^${label}: ([0-9,.]+)`, "m").exec(text);
  return match?.[1] ? Number(match[1].replaceAll(",", "").replace(/\.$/, "")) : 0;
}

export function parseRsyncStats(stdout: string): TransferStats {
  return {
    files: readNumber(stdout, "Number of regular files transferred"),
    bytes: readNumber(stdout, "Total transferred file size"),
  };
}

/**
 * rsync speaks its protocol over the remote shell's stdout, so anything a login shell prints there
 * (an `echo` in ~/.bashrc) breaks it: "protocol version mismatch -- is your shell clean?".
 */
export function isShellNoise(stderr: string): boolean {
  return /is your shell clean|protocol version mismatch|unexpected tag|invalid packet|multiplexing overflow/i.test(
    stderr,
  );
}

export const SHELL_NOISE_HINT =
  "The remote login shell prints text on stdout before running commands (an `echo` or similar in ~/.bashrc, ~/.profile or ~/.zshenv of the remote user). rsync cannot work through that: make those lines print only in interactive shells (`case $- in *i*) ... ;; esac`) or send them to stderr; `ssh <host> true | wc -c` must print 0. Or set `sync: { tool: tar }` in offload.yaml (or leave it `auto`, which picks tar for such a host): offload's tar streams skip what the shell prints.";
