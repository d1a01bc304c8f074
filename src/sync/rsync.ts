// rsync command lines (pure) and the parsing of its --stats summary.
import type { RemoteShell } from "../transport/types.js";

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
  options: { links?: boolean } = {},
): string[] {
  const argv = ["rsync", "-a", "-s", EXACT_TIMES, "--stats", "--files-from=-", "--from0"];
  // Downloads take no symlink at all (`--no-links`): one that arrived could name a file on this machine.
  if (options.links === false) argv.push("--no-links");
  if (shell.rsh !== undefined) argv.push("-e", shell.rsh);
  argv.push(`${source}/`, `${dest}/`);
  return argv;
}

/** Copies the tree at `source` to `dest`, skipping the NUL-separated exclude patterns given on stdin. */
export function buildRsyncTreeArgv(shell: RemoteShell, source: string, dest: string): string[] {
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
  "The remote login shell prints text on stdout before running commands (an `echo` or similar in ~/.bashrc, ~/.profile or ~/.zshenv of the remote user). rsync cannot work through that: make those lines print only in interactive shells (`case $- in *i*) ... ;; esac`) or send them to stderr; `ssh <host> true | wc -c` must print 0.";
