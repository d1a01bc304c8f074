// `ps` for runs of the run protocol: one round trip asks the host how each of its runs stands (the
// launcher's pid proven alive, or its end mark with the host's stamps).
import type { JobRef, JobSurvey } from "../backends/types.js";
import { buildRunStatusScript, parseRunStatus } from "../remote/status.js";
import type { Transport } from "../transport/types.js";

export async function surveyRuns(
  transport: Transport,
  jobs: readonly JobRef[],
  timeoutMs: number,
): Promise<Map<string, JobSurvey>> {
  const surveyed = new Map<string, JobSurvey>();
  if (jobs.length === 0) return surveyed;
  const script = buildRunStatusScript(jobs.map(({ remoteDir, runId }) => ({ remoteDir, runId })));
  const result = await transport.exec(script, { timeoutMs });
  const states = parseRunStatus(result.stdout);
  if (states.size === 0) {
    if (result.connectionFailed) throw transport.explain(result);
    const last = result.stderr.trim().split("\n").at(-1);
    throw new Error(last ? last : `${transport.label} gave no answer within ${timeoutMs / 1000} s`);
  }
  for (const job of jobs) {
    const state = states.get(job.runId);
    if (state === undefined) continue;
    if (state.state === "missing")
      surveyed.set(job.runId, {
        state: "unknown",
        why: `it is not in ${job.remoteDir} on ${transport.label} any more (its remote dir was removed or replaced)`,
      });
    else if (state.state !== "ended") surveyed.set(job.runId, { state: state.state });
    else {
      const { startedMs, endedMs, displacedBy } = state;
      surveyed.set(job.runId, {
        state: "ended",
        code: state.code,
        times: {
          ...(startedMs === undefined ? {} : { startedMs }),
          ...(endedMs === undefined ? {} : { endedMs }),
        },
        ...(displacedBy === undefined ? {} : { displacedBy }),
      });
    }
  }
  return surveyed;
}
