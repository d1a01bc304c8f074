// The launcher starts the machine sampler beside the job only while the job runs: a job that has
// already ended (a `true`) would wait for the sampler's process starts before its end could show.
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { startUnlessEnded } from "../../src/remote/launch.js";

/** Runs the lines under the real sh with `$jp` a child that has ended (and was reaped) or still runs. */
function runWithJob(job: "ended" | "running"): string {
  const start = job === "ended" ? ['true & jp=$!; wait "$jp"'] : ["sleep 30 & jp=$!"];
  const script = [
    ...start,
    ...startUnlessEnded(["echo started; sp=1"]),
    'echo "sp=$sp"',
    'kill "$jp" 2>/dev/null; wait',
  ].join("\n");
  return execFileSync("sh", ["-c", script], { encoding: "utf8" });
}

it("starts the helper beside a job that runs", () => {
  expect(runWithJob("running")).toBe("started\nsp=1\n");
});

it("skips it when the job has already ended, leaving no sampler to stop", () => {
  expect(runWithJob("ended")).toBe("sp=\n");
});

it("adds nothing when there is no helper", () => {
  expect(startUnlessEnded([])).toEqual([]);
});
