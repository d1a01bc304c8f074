// A sweep's runs as one Slurm job array: one `sbatch --array`, task i running grid point i in the run's
// own remote dir (SLURM_ARRAY_TASK_ID picks the run), each task's output in a file of its own that
// the run's output.log points at, and each task's job id `<array>_<task>` kept in its run dir.
import { OffloadError } from "../../errors.js";
import { remoteRunDir, STATE_DIR, STDIN_END } from "../../remote/layout.js";
import { quoteRemotePath, quoteShell } from "../../shell/quote.js";
import { buildBatchBody, buildDirectives } from "./batch.js";
import { SLURM_MARK } from "./markers.js";
import type { SlurmJobSpec, SlurmPlan } from "./types.js";

/** One run of the array: its task id (the grid index) and the plan of its job. */
export interface ArrayTaskPlan {
  index: number;
  plan: SlurmPlan;
}

/** Where Slurm writes a task's output, in the task's remote dir; its run dir's output.log links to it. */
const TASK_OUTPUT = `${STATE_DIR}/slurm-output.log`;

/** `0,1,2,5` → `0-2,5`: sbatch's --array list. */
export function formatArrayIndices(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The common start of the tasks' remote dirs (`…/sweep-` of `…/sweep-0`, `…/sweep-1`): Slurm's
 * `--output` names each task's file with `%a`, so every remote dir must be that start and its task id.
 */
export function arrayDirPrefix(tasks: readonly ArrayTaskPlan[]): string {
  const [first] = tasks;
  if (first === undefined) throw new Error("a job array needs a task");
  const suffix = String(first.index);
  const prefix = first.plan.remoteDir.slice(0, -suffix.length);
  for (const { index, plan } of tasks)
    if (plan.remoteDir !== `${prefix}${index}`)
      throw new Error(`remote dir ${plan.remoteDir} is not ${prefix} and task id ${index}`);
  // A backslash turns Slurm's filename patterns off; `%` starts one.
  if (prefix.includes("\\"))
    throw new OffloadError(
      "E_CONFIG_VALUE",
      `The remote dir ${first.plan.remoteDir} holds a backslash, which Slurm's output file names cannot.`,
      { hint: "Choose a `remote_dir:` without a backslash for the Slurm target." },
    );
  return prefix.replaceAll("%", "%%");
}

/** The array's batch script: every task's body, the one SLURM_ARRAY_TASK_ID names is run. */
export function buildArrayScript(
  name: string,
  spec: SlurmJobSpec,
  tasks: readonly ArrayTaskPlan[],
): string {
  const branches = tasks.flatMap(({ index, plan }) => [`${index})`, ...buildBatchBody(plan), ";;"]);
  return [
    "#!/bin/sh",
    ...buildDirectives(name, { ...spec, jobName: spec.jobName ?? `offload-sweep-${name}` }),
    `# offload: Slurm job array of sweep ${name}, a task a run`,
    'case "$SLURM_ARRAY_TASK_ID" in',
    ...branches,
    "esac",
    `echo "offload: task $SLURM_ARRAY_TASK_ID is not a run of this array" >&2`,
    "exit 1",
    "",
  ].join("\n");
}

/**
 * The submit round trip of an array: each task's run dir gets its output.log (a link to the file Slurm
 * writes for the task) before anything is submitted; the script comes on stdin, as for one job, and is
 * submitted only when its end mark came; the array id goes to stderr, each task's id into its run dir.
 */
export function buildArraySubmitScript(
  name: string,
  spec: SlurmJobSpec,
  tasks: readonly ArrayTaskPlan[],
): { script: string; stdin: string } {
  const [first] = tasks;
  if (first === undefined) throw new Error("a job array needs a task");
  const prefix = arrayDirPrefix(tasks);
  const output = `${quoteRemotePath(prefix)}${quoteShell(`%a/${TASK_OUTPUT}`)}`;
  const args = (spec.extraArgs ?? []).map(quoteShell).join(" ");
  const runDir = (task: ArrayTaskPlan) =>
    `${quoteRemotePath(task.plan.remoteDir)}/${quoteShell(remoteRunDir(task.plan.runId))}`;
  const script = [
    "umask 077",
    ...tasks.flatMap((task) => [
      `mkdir -p ${runDir(task)} || exit 1`,
      // Opened for append by Slurm: a requeued task keeps the bytes a follower has counted.
      `ln -sfn ../../slurm-output.log ${runDir(task)}/output.log && : >> ${runDir(task)}/output.log || exit 1`,
    ]),
    `cd ${quoteRemotePath(first.plan.remoteDir)} || exit 1`,
    `R=${quoteShell(remoteRunDir(first.plan.runId))}`,
    `cat > "$R/job.sbatch.part" || exit 1`,
    `if [ "$(tail -n 1 "$R/job.sbatch.part")" != ${STDIN_END} ]; then`,
    `  rm -f "$R/job.sbatch.part"; printf '${SLURM_MARK.aborted}\\n' >&2; exit 4`,
    "fi",
    `sed '$d' "$R/job.sbatch.part" > "$R/job.sbatch" && rm -f "$R/job.sbatch.part" || exit 1`,
    // offload's options come last on the command line: they win over the user's for the output files.
    `out=$(sbatch --parsable ${args} --array=${formatArrayIndices(tasks.map((t) => t.index))} --chdir="$PWD" --output=${output} --error=${output} --open-mode=append "$R/job.sbatch") || exit $?`,
    `job=\${out%%;*}`,
    ...tasks.flatMap((task) => [
      `printf '%s_%s\\n' "$job" ${task.index} > ${runDir(task)}/slurm-job`,
      ...(task === first ? [] : [`cp "$R/job.sbatch" ${runDir(task)}/job.sbatch`]),
    ]),
    `printf '${SLURM_MARK.job} %s\\n' "$job" >&2`,
  ].join("\n");
  return { script, stdin: `${buildArrayScript(name, spec, tasks)}${STDIN_END}\n` };
}
