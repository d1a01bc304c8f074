// The errors of a download: a dropped link (the caller reconnects and downloads again), a shell that is
// not clean, or a copy that failed.
import { OffloadError } from "../errors.js";
import type { Transport } from "../transport/types.js";
import { isShellNoise, SHELL_NOISE_HINT } from "./rsync.js";

/** rsync's codes for a stream that broke (12, 30, 35) and ssh's 255: a dropped link, worth a retry. */
function isDropCode(code: number): boolean {
  return code === 12 || code === 30 || code === 35 || code === 255;
}

export function transferError(transport: Transport, code: number, stderr: string): OffloadError {
  if (transport.kind === "ssh" && isDropCode(code) && !isShellNoise(stderr))
    return droppedError(transport, new Error(stderr.trim().split("\n").at(-1) ?? ""));
  return downloadError(transport.label, stderr);
}

/** E_DISCONNECTED: the link dropped mid-download; the caller reconnects and downloads again. */
export function droppedError(transport: Transport, cause: Error): OffloadError {
  return new OffloadError(
    "E_DISCONNECTED",
    `Lost the connection to ${transport.label} while downloading outputs${cause.message ? ` (${cause.message})` : ""}.`,
    { hint: DOWNLOAD_HINT, cause },
  );
}

const DOWNLOAD_HINT =
  "The run itself has finished and its files are still on the host: run `offload attach <run-id>` to fetch them again.";

export function downloadError(label: string, stderr: string): OffloadError {
  if (isShellNoise(stderr))
    return new OffloadError(
      "E_SHELL_NOISE",
      `Downloading outputs from ${label} failed: the remote shell is not clean: ${stderr.trim().split("\n").slice(-2).join(" ")}`,
      { hint: SHELL_NOISE_HINT },
    );
  return new OffloadError(
    "E_DOWNLOAD",
    `Downloading outputs from ${label} failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`,
    { hint: DOWNLOAD_HINT },
  );
}
