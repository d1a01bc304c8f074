// rsync command lines (pure) and the parsing of its --stats summary.
import type { RemoteShell } from "../transport/types.js";

export interface TransferStats {
  files: number;
  bytes: number;
}

/** Copies the NUL-separated relative paths given on stdin from `source` to `dest` (both directories). */
export function buildRsyncFilesArgv(shell: RemoteShell, source: string, dest: string): string[] {
  const argv = ["rsync", "-a", "-s", "--stats", "--files-from=-", "--from0"];
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
export function buildRsyncOneArgv(shell: RemoteShell, source: string, dest: string): string[] {
  const argv = ["rsync", "-a", "-s", "--stats"];
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
