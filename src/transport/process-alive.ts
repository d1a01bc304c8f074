// Whether a local process still runs: what tells a killed offload's leftovers (temp files, forwards) from
// a live one's. A pid alone can be reused; the callers only ever leave alone what a live pid names.

/** EPERM: it runs, as another user. */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
