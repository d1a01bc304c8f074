// What the Slurm scripts print on stderr (stdout carries only log bytes), and the shell functions they
// share to ask Slurm about a job.

export const SLURM_MARK = {
  /** `sbatch --parsable` answered with this job id. */
  job: "offload-slurm-job",
  /** An squeue line `STATE|REASON|NODES` of a job still queued or running. */
  state: "offload-slurm-state",
  /** The job's `scontrol show job -o` line (the controller keeps it MinJobAge seconds after the end). */
  scontrol: "offload-slurm-scontrol",
  /** The job's `sacct -P` line `JobID|State|ExitCode`, from accounting or the jobcomp file. */
  sacct: "offload-slurm-sacct",
  /** Neither the controller nor accounting knows the job. */
  unknown: "offload-slurm-unknown",
  /** squeue failed for another reason than an unknown job (the controller is down): still waiting. */
  unreachable: "offload-slurm-unreachable",
  /** scancel has been sent: a stop may leave from here on, the job is on its way out. */
  cancelSent: "offload-slurm-cancel-sent",
  /** The submit round trip's stdin ended early: nothing was submitted. */
  aborted: "offload-slurm-aborted",
} as const;

/** Job ids as sbatch prints them: `123`, an array task `123_4`, a het component `123+0`. */
export const JOB_ID_PATTERN = /^[0-9]+(?:[_+][0-9]+)?$/;

/** squeue's view of job $J in `offload_sq` (`STATE|REASON|NODES`); fails only when squeue itself did. */
const SQUEUE = `offload_squeue() {
  # With the controller away a client retries for a minute: bounded, so the output keeps streaming.
  if command -v timeout >/dev/null 2>&1; then set -- timeout 5; else set --; fi
  offload_sq=$("$@" squeue -h -j "$J" -o '%T|%r|%N' 2>&1) && { offload_sq=\${offload_sq%%
*}; return 0; }
  # A job the controller no longer knows has ended: that is an answer, not a failure.
  case $offload_sq in *"Invalid job id"*) offload_sq=; return 0 ;; esac
  [ -n "$offload_sq" ] || offload_sq="squeue gave no answer within 5 s"
  return 1
}
offload_active() {
  case \${offload_sq%%|*} in
    PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | STOPPED | REQUEUED | REQUEUE_HOLD | \\
      REQUEUE_FED | RESV_DEL_HOLD | RESIZING | SIGNALING | STAGE_OUT) return 0 ;;
  esac
  return 1
}`;

/** The ended job's state and exit code: the controller first, then accounting, then the jobcomp file. */
const FINAL = `offload_final() {
  offload_l=$(scontrol show job -o "$J" 2>/dev/null | head -n 1)
  if [ -n "$offload_l" ]; then printf '${SLURM_MARK.scontrol} %s\\n' "$offload_l" >&2; return 0; fi
  offload_l=$(sacct -n -P -X -j "$J" -o JobID,State,ExitCode 2>/dev/null | head -n 1)
  [ -n "$offload_l" ] || offload_l=$(sacct -c -n -P -j "$J" -o JobID,State,ExitCode 2>/dev/null | tail -n 1)
  if [ -n "$offload_l" ]; then printf '${SLURM_MARK.sacct} %s\\n' "$offload_l" >&2; return 0; fi
  printf '${SLURM_MARK.unknown}\\n' >&2
}`;

export const SLURM_FUNCTIONS = `${SQUEUE}\n${FINAL}`;
