// Builds the sbatch script of a run: offload's and the user's #SBATCH lines, the env, then `srun` of
// the command on every task with torchrun's contract (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, NODE_RANK…)
// mapped from SLURM_*.
import { OffloadError } from "../../errors.js";
import { buildJobCommand } from "../../remote/launch.js";
import { remoteRunDir } from "../../remote/layout.js";
import { buildReleaseLock, LOCK_HEARTBEAT_SECONDS } from "../../remote/lock.js";
import { quoteRemotePath, quoteShell } from "../../shell/quote.js";
import type { SlurmJobSpec, SlurmPlan } from "./types.js";

/**
 * Each task: its rank from Slurm (RANK = SLURM_PROCID, LOCAL_RANK = SLURM_LOCALID, WORLD_SIZE =
 * SLURM_NTASKS, NODE_RANK = SLURM_NODEID), so an env:// script and a per-node torchrun both work.
 */
function buildTaskScript(plan: SlurmPlan): string {
  const lines = [
    'export RANK="$SLURM_PROCID" LOCAL_RANK="$SLURM_LOCALID" WORLD_SIZE="$SLURM_NTASKS" NODE_RANK="$SLURM_NODEID"',
  ];
  if (plan.workdir) {
    const dir = `./${quoteShell(plan.workdir)}`;
    lines.push(`mkdir -p ${dir} && cd ${dir} || exit 1`);
  }
  lines.push(buildJobCommand(plan.command));
  // The first task to fail writes its own code (`set -C`: a later one does not overwrite it): srun
  // exits with the highest code of all tasks, and the ranks it then kills end 143 (TERM), hiding the
  // rank's `exit 3` that ended the job. A task killed by srun is killed whole, this shell too.
  return [
    `sh -c ${quoteShell(lines.join("\n"))}`,
    'c=$?; [ "$c" = 0 ] || { (set -C; printf \'%s\\n\' "$c" > "$OFFLOAD_RUN_DIR/task-failed") 2>/dev/null; }; exit "$c"',
  ].join("\n");
}

/** The `#SBATCH` lines of a spec: offload's first, the user's after them (a later line wins). */
export function buildDirectives(runId: string, spec: SlurmJobSpec): string[] {
  const options: Array<[string, string | number | undefined]> = [
    ["job-name", spec.jobName ?? `offload-${runId}`],
    ["partition", spec.partition],
    ["account", spec.account],
    ["nodes", spec.nodes],
    ["ntasks-per-node", spec.ntasksPerNode ?? 1],
    ["gpus-per-node", spec.gpusPerNode],
    ["cpus-per-task", spec.cpusPerTask],
    ["time", spec.time],
  ];
  const lines = options
    .filter((option): option is [string, string | number] => option[1] !== undefined)
    .map(([name, value]) => `#SBATCH --${name}=${checkWord(name, String(value))}`);
  for (const directive of spec.directives ?? []) {
    if (/[\r\n]/.test(directive)) throw badValue("directives", directive, "holds a line break");
    const body = directive.replace(/^\s*#SBATCH\s+/, "").trim();
    if (body !== "") lines.push(`#SBATCH ${body}`);
  }
  return lines;
}

/** Values go on `#SBATCH` lines, which sbatch splits at blanks and a line break would end. */
function checkWord(name: string, value: string): string {
  if (value === "" || /\s/.test(value)) throw badValue(name, value, "must be one word");
  return value;
}

function badValue(name: string, value: string, why: string): OffloadError {
  return new OffloadError("E_CONFIG_VALUE", `slurm ${name} ${JSON.stringify(value)} ${why}.`, {
    hint: "Fix the target's `slurm:` settings in offload.yaml.",
  });
}

export function buildBatchScript(plan: SlurmPlan): string {
  return [
    "#!/bin/sh",
    ...buildDirectives(plan.runId, plan.slurm),
    ...buildBatchBody(plan),
    "",
  ].join("\n");
}

/** The batch script's lines after its `#SBATCH` lines: what one job (or one task of an array) runs. */
export function buildBatchBody(plan: SlurmPlan): string[] {
  const env = Object.entries(plan.env).map(([key, value]) => {
    // Names are checked where settings are read; a name is a shell word here, so check again.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`not a variable name: ${key}`);
    return `export ${key}=${quoteShell(value)}`;
  });
  const nproc = plan.slurm.gpusPerNode ?? 1;
  return [
    `# offload: Slurm batch script of run ${plan.runId}`,
    `cd ${quoteRemotePath(plan.remoteDir)} || exit 1`,
    `export OFFLOAD_RUN_ID=${quoteShell(plan.runId)} OFFLOAD_RUN_DIR="$PWD/${remoteRunDir(plan.runId)}"`,
    ...env,
    ...(plan.setupLines ?? []),
    // Node addresses as Slurm reaches them (NodeAddr; the name where unset), in the allocation's order:
    // MASTER_ADDR is the first node's.
    `offload_nodes=$(scontrol show node -o "$SLURM_JOB_NODELIST" 2>/dev/null); offload_ips=`,
    `for offload_h in $(scontrol show hostnames "$SLURM_JOB_NODELIST"); do`,
    `  offload_a=$(printf '%s\\n' "$offload_nodes" | sed -n "s/^NodeName=$offload_h .* NodeAddr=\\([^ ]*\\).*/\\1/p")`,
    `  offload_ips="$offload_ips\${offload_ips:+,}\${offload_a:-$offload_h}"`,
    "done",
    `export MASTER_ADDR="\${offload_ips%%,*}" OFFLOAD_NODE_IPS="$offload_ips"`,
    // A port per job id: two jobs sharing a first node must not pick the same one. The env may set it.
    `export MASTER_PORT="\${MASTER_PORT:-$((20000 + SLURM_JOB_ID % 20000))}"`,
    `export NNODES="$SLURM_JOB_NUM_NODES" NPROC_PER_NODE=${nproc}`,
    `export OFFLOAD_NUM_NODES="$SLURM_JOB_NUM_NODES"`,
    // While the job runs it keeps the remote dir's lock alive itself (the nodes share the file system),
    // so a run of another offload can tell it from a dead one; offload beats while it is queued.
    `R=${quoteShell(remoteRunDir(plan.runId))}`,
    // A requeued job starts again: the failure of its earlier start is not this one's.
    `rm -f "$R/task-failed"`,
    `(while :; do date +%s > "$R/heartbeat.tmp" && mv -f "$R/heartbeat.tmp" "$R/heartbeat"; sleep ${LOCK_HEARTBEAT_SECONDS}; done) >/dev/null 2>&1 &`,
    "offload_beat=$!",
    // One task failing ends the others at once instead of leaving them in a collective until timeout.
    // --export=ALL: the tasks get this script's env (the run's env, PATH, MASTER_ADDR) even where
    // sbatch was given --export=NONE (or SBATCH_EXPORT=NONE, as some sites set), which srun inherits
    // and then starts the tasks with no PATH at all. A single task's output goes to the file as it
    // comes (--unbuffered): srun otherwise holds a line until its end, so a progress bar redrawn with
    // \r showed only when it ended. Several tasks keep whole lines, or theirs would interleave.
    `offload_unbuffered=; [ "\${SLURM_NTASKS:-}" != 1 ] || offload_unbuffered=--unbuffered`,
    `srun --kill-on-bad-exit=1 --export=ALL $offload_unbuffered sh -c ${quoteShell(buildTaskScript(plan))}`,
    "offload_code=$?",
    `if [ "$offload_code" != 0 ] && [ -f "$R/task-failed" ]; then read -r offload_c < "$R/task-failed"; case $offload_c in "" | *[!0-9]*) ;; *) offload_code=$offload_c ;; esac; fi`,
    ...(plan.shutdownLines ?? []),
    'kill "$offload_beat" 2>/dev/null',
    // The run protocol's end mark: `ps` and `logs` read the code as for any run; then the lock is freed,
    // as a launcher frees it (else the next run there reclaims it and says so).
    `printf '%s\\n' "$offload_code" > "$R/exit.tmp" && mv -f "$R/exit.tmp" "$R/exit"`,
    buildReleaseLock(plan.runId),
    `exit "$offload_code"`,
  ];
}
