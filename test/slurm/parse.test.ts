// The pure side of the Slurm backend: parsers on real Slurm replies, and the scripts it builds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildBatchScript, buildDirectives } from "../../src/backends/slurm/batch.js";
import {
  exitCodeOf,
  parseExitCode,
  parseMarkers,
  parseSacctLine,
  parseScontrolJob,
  parseSqueueLine,
} from "../../src/backends/slurm/parse.js";
import { buildSubmitScript } from "../../src/backends/slurm/scripts.js";
import type { SlurmPlan } from "../../src/backends/slurm/types.js";

const scontrolLines = readFileSync(
  join(import.meta.dirname, "fixtures", "scontrol-show-job.txt"),
  "utf8",
)
  .trimEnd()
  .split("\n");

describe("Slurm replies", () => {
  it("reads state, reason, nodes and exit code from real `scontrol show job -o` lines", () => {
    const [failed = "", cancelled = "", killed = "", cancelledWaiting = ""] = scontrolLines;
    expect(parseScontrolJob("1", failed)).toEqual({
      jobId: "1",
      state: "FAILED",
      reason: "NonZeroExitCode",
      nodes: "slurm-h2",
      exitCode: 3,
      source: "scontrol",
    });
    expect(parseScontrolJob("2", cancelled)).toMatchObject({ state: "CANCELLED", exitCode: 143 });
    expect(parseScontrolJob("2", cancelled).reason).toBeUndefined();
    expect(parseScontrolJob("3", killed)).toMatchObject({
      state: "FAILED",
      reason: "JobLaunchFailure",
      exitCode: 137,
    });
    // Cancelled while it waited: Slurm keeps the reason it waited for, which is not why it ended.
    expect(cancelledWaiting).toContain("JobState=CANCELLED Reason=Resources");
    expect(parseScontrolJob("2", cancelledWaiting)).toEqual({
      jobId: "2",
      state: "CANCELLED",
      source: "scontrol",
      exitCode: 0,
    });
  });

  it("reads squeue and sacct lines as printed by the scripts' formats", () => {
    expect(parseSqueueLine("4", "PENDING|Priority|")).toEqual({
      jobId: "4",
      state: "PENDING",
      reason: "Priority",
      source: "squeue",
    });
    expect(parseSqueueLine("4", "RUNNING|None|slurm-h[2-3]")).toEqual({
      jobId: "4",
      state: "RUNNING",
      nodes: "slurm-h[2-3]",
      source: "squeue",
    });
    expect(parseSacctLine("3", "3|FAILED|3:0")).toMatchObject({ state: "FAILED", exitCode: 3 });
    // sacct from slurmdbd names who cancelled; the state is the first word.
    expect(parseSacctLine("2", "2|CANCELLED by 0|0:15")).toMatchObject({
      state: "CANCELLED",
      exitCode: 143,
    });
    expect(parseSacctLine("9", "9|TIMEOUT|0:0")).toMatchObject({ state: "TIMEOUT", exitCode: 0 });
    expect(parseSacctLine("9", "9|OUT_OF_MEMORY|0:125")).toMatchObject({
      state: "OUT_OF_MEMORY",
      exitCode: 253,
    });
  });

  it("maps Slurm's ExitCode to a shell's exit status", () => {
    expect(parseExitCode("0:0")).toBe(0);
    expect(parseExitCode("3:0")).toBe(3);
    expect(parseExitCode("0:9")).toBe(137);
    expect(parseExitCode("garbage")).toBeUndefined();
  });

  it("gives the run an exit code that never reads as success for an end Slurm imposed", () => {
    const ended = (state: string, exitCode?: number) =>
      exitCodeOf({
        jobId: "1",
        state,
        source: "sacct",
        ...(exitCode === undefined ? {} : { exitCode }),
      });
    expect(ended("COMPLETED", 0)).toBe(0);
    expect(ended("FAILED", 3)).toBe(3);
    // The jobcomp file records a cancelled job as 0:0 (seen on the suite's cluster).
    expect(ended("CANCELLED", 0)).toBe(143);
    expect(ended("CANCELLED", 143)).toBe(143);
    expect(ended("TIMEOUT", 0)).toBe(143);
    expect(ended("OUT_OF_MEMORY", 0)).toBe(137);
    expect(ended("FAILED", 0)).toBe(1);
    expect(ended("RUNNING")).toBeUndefined();
    expect(ended("UNKNOWN")).toBeUndefined();
  });

  it("takes only marker lines from a script's stderr", () => {
    const markers = parseMarkers(
      "7",
      "Welcome to the cluster\noffload-slurm-job 7\noffload-slurm-state PENDING|None|\nsrun: error: x\n",
    );
    expect(markers).toEqual([
      { kind: "job", jobId: "7" },
      { kind: "status", status: { jobId: "7", state: "PENDING", source: "squeue" } },
    ]);
  });
});

const plan: SlurmPlan = {
  runId: "20261201-120000-abcd",
  remoteDir: "~/proj",
  command: ["python", "train.py", "--name", "it's"],
  env: { SECRET_TOKEN: "s3cr3t value" },
  slurm: {
    partition: "gpu",
    nodes: 2,
    gpusPerNode: 4,
    time: "1:00:00",
    directives: ["#SBATCH --mem=16G", "--exclusive"],
    extraArgs: ["--qos", "high prio"],
  },
};

describe("Slurm scripts", () => {
  it("writes offload's #SBATCH lines first and the user's after, where they win", () => {
    expect(buildDirectives(plan.runId, plan.slurm)).toEqual([
      "#SBATCH --job-name=offload-20261201-120000-abcd",
      "#SBATCH --partition=gpu",
      "#SBATCH --nodes=2",
      "#SBATCH --ntasks-per-node=1",
      "#SBATCH --gpus-per-node=4",
      "#SBATCH --time=1:00:00",
      "#SBATCH --mem=16G",
      "#SBATCH --exclusive",
    ]);
  });

  it("refuses a setting that would break out of its #SBATCH line", () => {
    expect(() => buildDirectives("x", { partition: "gpu\n#SBATCH --x" })).toThrow(
      expect.objectContaining({ code: "E_CONFIG_VALUE" }),
    );
    expect(() => buildDirectives("x", { directives: ["--mem=1G\nrm -rf ~"] })).toThrow(
      expect.objectContaining({ code: "E_CONFIG_VALUE" }),
    );
  });

  it("keeps the env and the command out of argv: they travel on stdin inside the batch script", () => {
    const { script, stdin } = buildSubmitScript(plan);
    expect(script).not.toContain("s3cr3t");
    expect(script).not.toContain("train.py");
    expect(script).toContain("sbatch --parsable --qos 'high prio' --chdir=");
    expect(stdin).toContain("export SECRET_TOKEN='s3cr3t value'");
    expect(stdin.endsWith("offload-stdin-end\n")).toBe(true);
    expect(buildBatchScript(plan)).toContain(
      "srun --kill-on-bad-exit=1 --export=ALL $offload_unbuffered sh -c ",
    );
    expect(buildBatchScript(plan)).toContain("NPROC_PER_NODE=4");
  });
});
