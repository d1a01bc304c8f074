// Builds the scripts a Slurm run sends to the login node: submit, follow from a byte offset, status,
// cancel. Each is one ssh round trip; every value reaches the shell through quoteShell.
import { remoteRunDir, STDIN_END } from "../../remote/layout.js";
import { buildReleaseLock } from "../../remote/lock.js";
import { quoteRemotePath, quoteShell } from "../../shell/quote.js";
import { buildBatchScript } from "./batch.js";
import { JOB_ID_PATTERN, SLURM_FUNCTIONS, SLURM_MARK } from "./markers.js";
import type { SlurmJobRef, SlurmPlan } from "./types.js";

/** The job id goes into scripts unquoted only after this check. */
function checkJobId(jobId: string): string {
  if (!JOB_ID_PATTERN.test(jobId)) throw new Error(`not a Slurm job id: ${JSON.stringify(jobId)}`);
  return jobId;
}

/**
 * The submit round trip: the batch script comes on stdin (never in argv, where `ps` shows it) and is
 * submitted only when its end mark came; output goes to the run dir's output.log, opened for append so
 * a requeued job keeps the bytes a follower has counted.
 */
export function buildSubmitScript(plan: SlurmPlan): { script: string; stdin: string } {
  const run = quoteShell(remoteRunDir(plan.runId));
  const args = (plan.slurm.extraArgs ?? []).map(quoteShell).join(" ");
  const script = [
    "umask 077",
    `cd ${quoteRemotePath(plan.remoteDir)} || exit 1`,
    `R=${run}`,
    `mkdir -p "$R" || exit 1`,
    `cat > "$R/job.sbatch.part" || exit 1`,
    `if [ "$(tail -n 1 "$R/job.sbatch.part")" != ${STDIN_END} ]; then`,
    `  rm -f "$R/job.sbatch.part"; printf '${SLURM_MARK.aborted}\\n' >&2; exit 4`,
    "fi",
    `sed '$d' "$R/job.sbatch.part" > "$R/job.sbatch" && rm -f "$R/job.sbatch.part" || exit 1`,
    `: >> "$R/output.log" || exit 1`,
    // offload's options come last on the command line: they win over the user's for the output file.
    `out=$(sbatch --parsable ${args} --chdir="$PWD" --output="$PWD/$R/output.log" --error="$PWD/$R/output.log" --open-mode=append "$R/job.sbatch") || exit $?`,
    `job=\${out%%;*}`,
    `printf '%s\\n' "$job" > "$R/slurm-job"`,
    `printf '${SLURM_MARK.job} %s\\n' "$job" >&2`,
  ].join("\n");
  return { script, stdin: `${buildBatchScript(plan)}${STDIN_END}\n` };
}

/**
 * Streams output.log from byte `offset` while the job is queued or running, printing each new squeue
 * state once; after the job leaves the queue, the rest of the file, then the final state. squeue is
 * asked at growing intervals (0.2 s doubling to 5 s, from the start again after each change): the
 * controller is shared by everyone on the cluster. New output while the job was not yet seen running
 * asks at once.
 */
export function buildFollowScript(ref: SlurmJobRef, offset: number): string {
  return [
    SLURM_FUNCTIONS,
    `cd ${quoteRemotePath(ref.remoteDir)} || exit 1`,
    `J=${checkJobId(ref.jobId)}; L=${quoteShell(`${remoteRunDir(ref.runId)}/output.log`)}`,
    `off=${Math.max(0, Math.floor(offset))}`,
    // The file is read through a descriptor held from its first sight: Slurm writes to the file it
    // opened, so a log removed (or replaced) while the job runs still streams to its end here.
    `offload_drain() {
  if [ -z "$F" ]; then
    [ -f "$L" ] || return 0
    F=$L; command exec 3< "$L" && [ -r /dev/fd/3 ] && F=/dev/fd/3
  fi
  size=$(wc -c < "$F"); size=$((size + 0))
  [ "$size" -gt "$off" ] || return 0
  tail -c +$((off + 1)) "$F" | head -c $((size - off)); off=$size
  # Output while squeue last said otherwise: the job runs now; ask at once, to say on which nodes.
  case $last in RUNNING*) ;; *) next=$t ;; esac
}`,
    `F=; last=; t=0; next=0; gap=1; down=`,
    `while :; do
  if [ "$t" -ge "$next" ]; then
    if offload_squeue; then
      down=
      offload_active || break
      if [ "$offload_sq" != "$last" ]; then printf '${SLURM_MARK.state} %s\\n' "$offload_sq" >&2; last=$offload_sq; gap=1; fi
    elif [ -z "$down" ]; then
      down=1; printf '${SLURM_MARK.unreachable} %s\\n' "$offload_sq" | head -n 1 >&2
    fi
    next=$((t + gap)); gap=$((gap * 2)); [ "$gap" -le 25 ] || gap=25
  fi
  offload_drain
  sleep 0.2; t=$((t + 1))
done`,
    "offload_drain",
    "offload_final",
  ].join("\n");
}

/** The job id a submit kept in the run dir (`slurm-job`): how an offload attaches to a job it did not submit. */
export function buildFindScript(remoteDir: string, runId: string): string {
  return [
    `cd ${quoteRemotePath(remoteDir)} || exit 1`,
    `R=${quoteShell(remoteRunDir(runId))}`,
    `job=; { read -r job < "$R/slurm-job"; } 2>/dev/null`,
    `[ -z "$job" ] || printf '${SLURM_MARK.job} %s\\n' "$job" >&2`,
  ].join("\n");
}

/** One look at the job: its squeue state while active, else its final state. */
export function buildStatusScript(jobId: string): string {
  return [
    SLURM_FUNCTIONS,
    `J=${checkJobId(jobId)}`,
    `offload_squeue || { printf '${SLURM_MARK.unreachable} %s\\n' "$offload_sq" | head -n 1 >&2; exit 3; }`,
    `if offload_active; then printf '${SLURM_MARK.state} %s\\n' "$offload_sq" >&2; exit 0; fi`,
    "offload_final",
  ].join("\n");
}

/**
 * scancel, then wait until the job has left the queue (Slurm sends TERM, then KILL after KillWait) and
 * say how it ended. Immune to HUP: a second Ctrl+C that drops the ssh leaves the cancel to finish.
 */
export function buildCancelScript(jobId: string, waitSeconds = 120): string {
  return [
    `trap '' HUP PIPE`,
    SLURM_FUNCTIONS,
    `J=${checkJobId(jobId)}`,
    `msg=$(scancel "$J" 2>&1) || case $msg in *"Invalid job id"*) ;; *) printf '%s\\n' "$msg" >&2; exit 5 ;; esac`,
    `printf '${SLURM_MARK.cancelSent}\\n' >&2`,
    `t=0; while [ "$t" -lt ${Math.max(1, Math.round(waitSeconds * 5))} ]; do`,
    `  if offload_squeue && ! offload_active; then break; fi`,
    `  sleep 0.2; t=$((t + 1))`,
    "done",
    `if offload_squeue && offload_active; then printf '${SLURM_MARK.state} %s\\n' "$offload_sq" >&2; exit 0; fi`,
    "offload_final",
  ].join("\n");
}

/**
 * After the job ended: writes the run protocol's end mark with the code Slurm gave, unless the batch
 * script wrote its own (a cancelled, timed-out or killed job never got there). The remote dir's lock
 * is free from then on, and `ps` and `logs` read the end as for any run.
 */
export function buildEndScript(ref: SlurmJobRef, code: number): string {
  return [
    `cd ${quoteRemotePath(ref.remoteDir)} || exit 1`,
    `R=${quoteShell(remoteRunDir(ref.runId))}`,
    `[ -f "$R/exit" ] || { printf '%s\\n' ${Math.trunc(code)} > "$R/exit.tmp" && mv -f "$R/exit.tmp" "$R/exit"; }`,
    buildReleaseLock(ref.runId),
  ].join("\n");
}
