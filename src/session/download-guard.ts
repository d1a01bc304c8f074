// A finished run's download is for that run's files: where another run has taken the remote dir since
// (a run killed before its download, attached to after the next run there), the files there may be the
// later run's, and the download fetches nothing rather than bring them home under this run's name.
import { OffloadError } from "../errors.js";
import { buildLatestRunCheck, readLaterRun } from "../remote/latest-run.js";
import type { DownloadGuard } from "../sync/download.js";

export function laterRunGuard(runId: string, remoteDir: string, label: string): DownloadGuard {
  return {
    lines: buildLatestRunCheck(runId),
    refusal: (stderr) => {
      const later = readLaterRun(stderr);
      return later === undefined ? undefined : laterRunError(runId, later, remoteDir, label);
    },
  };
}

function laterRunError(
  runId: string,
  later: string,
  remoteDir: string,
  label: string,
): OffloadError {
  const known = later !== "unknown";
  const who = known ? `run ${later}` : "another run";
  return new OffloadError(
    "E_DIR_REUSED",
    `Run ${runId}'s outputs were not downloaded: ${who} has used ${remoteDir} on ${label} since this run, so the files there may be its own; nothing was fetched.`,
    {
      hint: `${known ? `Run ${later}'s outputs come home to its own record (\`offload attach ${later}\` where it was started). ` : ""}Files of ${runId} that no later run rewrote are still in ${remoteDir}: copy those by hand (scp, rsync) if you know they are this run's.`,
    },
  );
}
