// The job array's pure parts: sbatch's --array list, the `%a` output pattern over the runs' remote
// dirs, and the batch script whose case runs the task SLURM_ARRAY_TASK_ID names (run by a real sh).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type ArrayTaskPlan,
  arrayDirPrefix,
  buildArrayScript,
  formatArrayIndices,
} from "../../src/backends/slurm/array.js";

function task(index: number, remoteDir: string): ArrayTaskPlan {
  return {
    index,
    plan: {
      runId: `20261202-020000-${String(index).padStart(2, "0")}ab`,
      remoteDir,
      command: [`echo ran ${index}`],
      env: {},
      slurm: {},
    },
  };
}

describe("job array scripts", () => {
  it("writes the task ids as ranges", () => {
    expect(formatArrayIndices([0, 1, 2])).toBe("0-2");
    expect(formatArrayIndices([5, 0, 1, 3])).toBe("0-1,3,5");
    expect(formatArrayIndices([7])).toBe("7");
  });

  it("names each task's remote dir by one `%a` pattern, a literal % doubled", () => {
    expect(arrayDirPrefix([task(0, "/w/p.sweeps/s-0"), task(1, "/w/p.sweeps/s-1")])).toBe(
      "/w/p.sweeps/s-",
    );
    expect(arrayDirPrefix([task(10, "/w/50%.sweeps/s-10")])).toBe("/w/50%%.sweeps/s-");
    expect(() => arrayDirPrefix([task(0, "/w/a-0"), task(1, "/w/b-1")])).toThrow(/task id 1/);
  });

  it("runs only the body of the task SLURM_ARRAY_TASK_ID names; an unknown id fails with 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "offload-array-"));
    try {
      const script = buildArrayScript("20261202-020000-zzab", {}, [task(0, dir), task(2, dir)]);
      expect(script).toContain("#SBATCH --job-name=offload-sweep-20261202-020000-zzab\n");
      // srun and scontrol stand in as shell functions: srun runs its command here, once.
      const shim =
        'srun() { for a; do case $a in -*) shift ;; *) break ;; esac; done; "$@"; }\nscontrol() { :; }\n';
      const runTask = (id: string) =>
        spawnSync("sh", ["-c", shim + script], {
          cwd: dir,
          env: { ...process.env, SLURM_ARRAY_TASK_ID: id, SLURM_JOB_ID: "9" },
          encoding: "utf8",
        });
      const two = runTask("2");
      expect([two.status, two.stdout]).toEqual([0, "ran 2\n"]);
      const one = runTask("1");
      expect(one.status).toBe(1);
      expect(one.stderr).toContain("task 1 is not a run of this array");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
