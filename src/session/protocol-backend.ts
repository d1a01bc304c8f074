// The run protocol as a Backend: remote/'s scripts over a Transport. The launch round trip streams the
// log too; its attempt is handed to the next follow of the same run, which goes on from there.
import type {
  Backend,
  FollowIo,
  JobLaunch,
  JobRef,
  JobStatus,
  JobSurvey,
  LaunchIo,
  LaunchOutcome,
  StopOptions,
  StopOutcome,
} from "../backends/types.js";
import type { Transport } from "../transport/types.js";
import { followRun, type StreamAttempt } from "./follow.js";
import type { HeldLaunch } from "./held-launch.js";
import { askLaunchStatus, launchJob } from "./launch.js";
import { surveyRuns } from "./protocol-survey.js";
import { stopRemoteRun } from "./stop.js";

export class RunProtocolBackend implements Backend {
  /** The launcher proves the lock's holder alive from its start on. */
  readonly startedJobKeepsLock = true;
  readonly schedules = false;
  readonly #transport: Transport;
  readonly #reconnectTimeoutSeconds: number;
  /** The launch round trip's stream attempt, by run id, until the run's follow takes it. */
  readonly #streamed = new Map<string, StreamAttempt>();
  /** A run's prepare connection held for its launch (held-launch.ts), until its launch takes it. */
  readonly #held = new Map<string, HeldLaunch>();

  constructor(transport: Transport, options: { reconnectTimeoutSeconds: number }) {
    this.#transport = transport;
    this.#reconnectTimeoutSeconds = options.reconnectTimeoutSeconds;
  }

  /** The launcher reads secrets from a 0600 file and `attempts.ts` retries: it can run anything asked. */
  checkRun(): void {}

  /** The next launch of `runId` may go down `held` (it checks that the host holds that very launch). */
  holdLaunch(runId: string, held: HeldLaunch): void {
    this.#held.set(runId, held);
  }

  async launch(job: JobLaunch, io: LaunchIo): Promise<LaunchOutcome> {
    const held = this.#held.get(job.plan.runId);
    this.#held.delete(job.plan.runId);
    const { outcome, first } = await launchJob({
      transport: this.#transport,
      job,
      io,
      reconnectTimeoutSeconds: this.#reconnectTimeoutSeconds,
      held,
    });
    if (outcome.kind === "started") this.#streamed.set(job.plan.runId, first);
    return outcome;
  }

  follow(job: JobRef, io: FollowIo) {
    const first = this.#streamed.get(job.runId);
    this.#streamed.delete(job.runId);
    return followRun(
      {
        transport: this.#transport,
        remoteDir: job.remoteDir,
        runId: job.runId,
        sink: io.sink,
        samples: io.samples,
        report: io.report,
        reconnectTimeoutMs: this.#reconnectTimeoutSeconds * 1000,
        signal: io.signal,
      },
      first,
    );
  }

  stop(job: JobRef, options: StopOptions): Promise<StopOutcome> {
    options.report?.({ type: "stopping", runId: job.runId, graceSeconds: options.graceSeconds });
    return stopRemoteRun(
      this.#transport,
      job.remoteDir,
      job.runId,
      options.graceSeconds,
      options.signal,
    );
  }

  status(job: JobRef): Promise<JobStatus> {
    return askLaunchStatus(this.#transport, job);
  }

  survey(jobs: readonly JobRef[], options: { timeoutMs: number }): Promise<Map<string, JobSurvey>> {
    return surveyRuns(this.#transport, jobs, options.timeoutMs);
  }
}
