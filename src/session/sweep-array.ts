// A sweep's runs on a scheduler with job arrays (Slurm) become one array: each run goes through its
// own phases as any run (lock, sync, env, record) and, at its launch, waits for the others; once every
// run of the host has reached its launch or failed before it, one submit starts them all, each run
// getting its task's job id. From there each run is followed, stopped and attached as any run.
import type {
  ArrayTask,
  Backend,
  JobRef,
  LaunchOutcome,
  StopOptions,
  StopOutcome,
} from "../backends/types.js";
import { OffloadError } from "../errors.js";

interface Waiting extends ArrayTask {
  settle: (outcome: Promise<LaunchOutcome>) => void;
}

export class ArraySubmission {
  readonly #backend: Backend & Required<Pick<Backend, "launchArray">>;
  readonly #name: string;
  readonly #stop: AbortSignal | undefined;
  /** Runs taken for this host that have neither reached their launch nor failed before it. */
  readonly #expected = new Set<number>();
  readonly #arrived: Waiting[] = [];
  #closed = false;
  #submitted = false;
  /** The one cancel of the whole array a Ctrl+C of the sweep sends. */
  #cancelling: Promise<StopOutcome> | undefined;

  constructor(
    backend: Backend & Required<Pick<Backend, "launchArray">>,
    name: string,
    stop: AbortSignal | undefined,
  ) {
    this.#backend = backend;
    this.#name = name;
    this.#stop = stop;
  }

  /** Run `index` was taken for this host: the submit waits for it. */
  expect(index: number): void {
    if (this.#closed) throw new Error("a job array takes no run once closed");
    this.#expected.add(index);
  }

  /** Whether the runs are all taken: a slot freed later takes no more. */
  get taken(): boolean {
    return this.#closed;
  }

  /** No run is taken any more: the submit goes once the expected ones are in. */
  close(): void {
    this.#closed = true;
    this.#submitIfReady();
  }

  /** Run `index` ended before its launch (a refusal, a failed sync): the array goes without it. */
  withdraw(index: number): void {
    if (this.#expected.delete(index)) this.#submitIfReady();
  }

  /** The backend of run `index`: the host's, whose launch joins the array. */
  backendFor(index: number): Backend {
    const inner = this.#backend;
    return {
      startedJobKeepsLock: inner.startedJobKeepsLock,
      schedules: inner.schedules,
      checkRun: (run) => inner.checkRun(run),
      launch: (job, io) =>
        new Promise<LaunchOutcome>((resolve, reject) => {
          this.#expected.delete(index);
          this.#arrived.push({
            index,
            job,
            io,
            settle: (outcome) => outcome.then(resolve, reject),
          });
          this.#submitIfReady();
        }),
      follow: (job, io) => inner.follow(job, io),
      stop: (job, options) => this.#stopTask(job, options),
      status: (job) => inner.status(job),
      survey: (jobs, options) => inner.survey(jobs, options),
    };
  }

  /**
   * A Ctrl+C of the sweep stops every task: one `scancel` of the array for all of them (each run's
   * stop would otherwise send its own, one round trip and one controller request per task); each
   * run's follow then sees its own task end CANCELLED. A stop of one run alone stays its task's.
   */
  #stopTask(job: JobRef, options: StopOptions): Promise<StopOutcome> {
    const arrayId = job.slurm?.jobId.split("_")[0];
    if (!this.#stop?.aborted || job.slurm === undefined || arrayId === undefined)
      return this.#backend.stop(job, options);
    this.#cancelling ??= this.#backend.stop(
      { ...job, slurm: { ...job.slurm, jobId: arrayId } },
      options,
    );
    return this.#cancelling;
  }

  #submitIfReady(): void {
    if (!this.#closed || this.#submitted || this.#expected.size > 0) return;
    if (this.#arrived.length === 0) return;
    this.#submitted = true;
    const tasks = [...this.#arrived].sort((a, b) => a.index - b.index);
    // A Ctrl+C while the runs were getting ready: nothing is submitted.
    const submitting = this.#stop?.aborted
      ? Promise.resolve(tasks.map((): LaunchOutcome => ({ kind: "not-started", error: stopped() })))
      : this.#backend.launchArray(this.#name, tasks);
    for (const [i, task] of tasks.entries())
      task.settle(
        submitting.then((outcomes) => {
          const outcome = outcomes[i];
          if (outcome === undefined) throw new Error(`no outcome for task ${task.index}`);
          return outcome;
        }),
      );
  }
}

function stopped(): OffloadError {
  return new OffloadError(
    "E_INTERRUPTED",
    "Stopped before the sweep's job array was submitted: nothing was submitted.",
    { hint: "Run the sweep again." },
  );
}

/** The host's backend where it submits a sweep as a job array, else undefined. */
export function arrayBackendOf(
  backend: Backend,
): (Backend & Required<Pick<Backend, "launchArray">>) | undefined {
  return backend.schedules && backend.launchArray !== undefined
    ? (backend as Backend & Required<Pick<Backend, "launchArray">>)
    : undefined;
}
