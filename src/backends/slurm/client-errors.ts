// What SlurmClient says when Slurm or the login node refuses: sbatch's own words, and what to do.
import { OffloadError } from "../../errors.js";
import type { ExecResult } from "../../transport/types.js";
import type { SlurmMarker } from "./parse.js";
import type { SlurmJobRef } from "./types.js";

export function submitError(
  label: string,
  result: ExecResult,
  markers: SlurmMarker[],
): OffloadError {
  if (markers.some((m) => m.kind === "aborted")) {
    return new OffloadError(
      "E_LAUNCH",
      `The batch script did not reach ${label} whole; nothing was submitted.`,
      {
        hint: "Run again: the connection dropped during the submit.",
      },
    );
  }
  const said = sbatchError(result.stderr);
  if (result.code === 127 || /sbatch: (command )?not found/.test(result.stderr)) {
    return new OffloadError("E_LAUNCH", `${label} has no sbatch on its PATH: ${said}`, {
      hint: "Point the target at the cluster's login node, or add Slurm's bin dir to the PATH of its login shell.",
    });
  }
  return new OffloadError("E_LAUNCH", `Slurm refused the job on ${label}: ${said}`, {
    hint: "Check the target's `slurm:` settings (partition, account, nodes, time) against `sinfo` on the login node.",
  });
}

/** sbatch's own error lines (`sbatch: error: …`), else the first line of stderr. */
function sbatchError(stderr: string): string {
  const errors = stderr
    .split("\n")
    .filter((line) => /^sbatch: error:/.test(line))
    .map((line) => line.replace(/^sbatch: error:\s*/, ""));
  return errors.length > 0 ? errors.join("; ") : firstLine(stderr);
}

/** The first line of a command's output that says something, for a message. */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? "(no message)"
  );
}

export function missingRunDir(ref: SlurmJobRef, result: ExecResult): OffloadError {
  return new OffloadError(
    "E_RUN_NOT_FOUND",
    `The remote dir ${ref.remoteDir} of Slurm job ${ref.jobId} is gone: ${firstLine(result.stderr)}`,
    { hint: `The job may go on: \`squeue -j ${ref.jobId}\` on the login node.` },
  );
}
