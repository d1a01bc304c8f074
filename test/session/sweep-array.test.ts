// When a sweep's job array is submitted: once every run taken for the host has reached its launch or
// failed before it (a refused lock, a failed sync), with the runs that arrived, once; never after a
// Ctrl+C. The backend here is a recorder of the Backend seam (no ssh, no Slurm): the real array is
// proven against the suite's Slurm cluster in test/slurm/sweep-array.test.ts.
import { describe, expect, it } from "vitest";
import type {
  ArrayTask,
  Backend,
  JobLaunch,
  LaunchIo,
  LaunchOutcome,
} from "../../src/backends/types.js";
import { ArraySubmission } from "../../src/session/sweep-array.js";

function recordingBackend() {
  const submits: number[][] = [];
  const backend: Backend & Required<Pick<Backend, "launchArray">> = {
    startedJobKeepsLock: false,
    schedules: true,
    checkRun: () => {},
    launch: () => Promise.reject(new Error("a run of an array is never launched alone")),
    launchArray: async (_name: string, tasks: readonly ArrayTask[]) => {
      submits.push(tasks.map((t) => t.index));
      return tasks.map(
        (t): LaunchOutcome => ({ kind: "started", job: { slurm: { jobId: `7_${t.index}` } } }),
      );
    },
    follow: () => Promise.reject(new Error("not followed here")),
    stop: () => Promise.reject(new Error("not stopped here")),
    status: () => Promise.reject(new Error("not asked here")),
    survey: () => Promise.reject(new Error("not surveyed here")),
  };
  return { backend, submits };
}

const job = { plan: {}, stdin: "" } as unknown as JobLaunch;
const io = {} as LaunchIo;

describe("a sweep's job array", () => {
  it("is submitted once, when the last run arrives or fails first, with the runs that arrived", async () => {
    const { backend, submits } = recordingBackend();
    const array = new ArraySubmission(backend, "sweep", undefined);
    for (const index of [0, 1, 2]) array.expect(index);
    array.close();
    const first = array.backendFor(2).launch(job, io);
    const second = array.backendFor(0).launch(job, io);
    await Promise.resolve();
    expect(submits).toEqual([]);
    // Run 1 failed before its launch: the array goes without it.
    array.withdraw(1);
    expect(await first).toEqual({ kind: "started", job: { slurm: { jobId: "7_2" } } });
    expect(await second).toEqual({ kind: "started", job: { slurm: { jobId: "7_0" } } });
    expect(submits).toEqual([[0, 2]]);
    array.withdraw(2);
    expect(submits).toHaveLength(1);
  });

  it("submits nothing after a Ctrl+C while the runs got ready: each launch says not started", async () => {
    const { backend, submits } = recordingBackend();
    const stop = new AbortController();
    const array = new ArraySubmission(backend, "sweep", stop.signal);
    for (const index of [0, 1]) array.expect(index);
    array.close();
    const waiting = array.backendFor(0).launch(job, io);
    stop.abort();
    const last = array.backendFor(1).launch(job, io);
    for (const outcome of await Promise.all([waiting, last]))
      expect(outcome).toMatchObject({ kind: "not-started", error: { code: "E_INTERRUPTED" } });
    expect(submits).toEqual([]);
  });

  it("waits for runs still being taken: nothing is submitted before close", async () => {
    const { backend, submits } = recordingBackend();
    const array = new ArraySubmission(backend, "sweep", undefined);
    array.expect(0);
    const launched = array.backendFor(0).launch(job, io);
    await Promise.resolve();
    expect(submits).toEqual([]);
    array.close();
    expect(await launched).toMatchObject({ kind: "started" });
    expect(submits).toEqual([[0]]);
  });
});
