// A prepare that could not make or write the remote dir: the error names the path that failed (the dir
// itself, or `.offload` inside an existing one), why (the OS's own words), and what to do about it.
import { OffloadError } from "../errors.js";
import { isMarkerLine, readMarkers } from "../remote/markers.js";
import type { Transport } from "../transport/types.js";

const CHOOSE = "choose a writable remote dir with `remote_dir:` in offload.yaml or `--remote-dir`";

/** The error for a failed prepare (status not 0, no remote dir reported), from what its script said. */
export function remoteDirError(
  transport: Pick<Transport, "label">,
  remoteDir: string,
  stderr: string,
): OffloadError {
  const said = stderr
    .split("\n")
    .filter((line) => line.trim() !== "" && !isMarkerLine(line))
    .join("\n")
    .trim();
  const path = readMarkers(stderr).unwritable;
  // The label may carry the dir (`box//data/run`): the path is said once, whole.
  const where = `${path ?? remoteDir} on ${transport.label.split("/")[0]}`;
  const inside = path !== undefined && /\/\.offload(\/|$)/.test(path);
  // offload's own state lives in the dir: a read-only dir the job could use as it is still needs it.
  const why = inside
    ? ` offload keeps the run's lock and state in .offload inside the remote dir, so it must be writable.`
    : "";
  const words = said === "" ? "" : `: ${said}`;
  if (/No space left on device/i.test(said))
    return new OffloadError("E_DISK_FULL", `Could not write ${where}: its disk is full${words}`, {
      hint: `Free space there, or ${CHOOSE}.`,
    });
  if (/Read-only file system/i.test(said))
    return new OffloadError(
      "E_SYNC",
      `Could not write ${where}: its file system is read-only${words}`,
      { hint: `${capitalize(CHOOSE)}.${why}` },
    );
  if (/Permission denied/i.test(said))
    return new OffloadError(
      "E_SYNC",
      `Could not write ${where}: permission denied for the login user${words}`,
      {
        hint: `Give the login user write access there (chown or chmod on the host), or ${CHOOSE}.${why}`,
      },
    );
  return new OffloadError(
    "E_SYNC",
    path === undefined
      ? `Could not create the remote dir ${where}${words}`
      : `Could not write ${where}${words}`,
    { hint: `${capitalize(CHOOSE)}.${why}` },
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
