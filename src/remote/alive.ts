// Shell functions shared by the run protocol's scripts: is a process or a process group alive, is it
// the run's own, and how to stop a run. Orphans can sit as zombies for a while (a slow PID 1) and
// `kill -0` succeeds on a zombie, so a zombie counts as gone. A pid alone proves nothing (a pid file can
// be stale, reused after a reboot, or damaged): a process is the run's when its start time (field 22 of
// /proc/PID/stat, recorded beside its pid) matches, or it carries the run's OFFLOAD_RUN_ID. Nothing is
// ever signalled on a guess; a host without /proc gets no signal at all.

export const PROTOCOL_FUNCTIONS = `offload_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  # Builtins only (read, parameter expansion): this runs every tick of a follow.
  if [ -r "/proc/$1/stat" ] && read -r offload_stat < "/proc/$1/stat"; then
    offload_stat=\${offload_stat##*) }
    [ "\${offload_stat%% *}" = Z ] && return 1
  fi
  return 0
}
# offload_ident PID: the group and start time of the live process PID in offload_pgrp and offload_start;
# fails for no such process, a zombie, a word that is not a pid, pid 1, or no /proc. Builtins only.
offload_ident() {
  offload_pgrp=; offload_start=
  case "$1" in "" | *[!0-9]* | 0* | 1) return 1 ;; esac
  offload_stat=; { read -r offload_stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  # The name in parentheses may hold spaces and parentheses: the fields start after the last ") ".
  set -- \${offload_stat##*) }
  case "$1" in Z | X | x | "") return 1 ;; esac
  offload_pgrp=$3; offload_start=\${20}
  [ -n "$offload_start" ]
}
offload_alive_as() { offload_ident "$1" && [ "$offload_start" = "$2" ]; }
offload_environ_has() { tr '\\0' '\\n' < "/proc/$1/environ" 2>/dev/null | grep -qxF -e "$2"; }
# offload_read_launcher RUN_DIR: the launcher's pid and start time from launcher.pid into lp and lst. A
# file from an older offload holds the pid alone: the launcher's command line (sh RUN_DIR/launch.sh)
# proves it then.
offload_read_launcher() {
  lp=; lst=; { read -r lp lst _ < "$1/launcher.pid"; } 2>/dev/null
  case "$lp" in *[!0-9]*) lp= lst= ;; esac
  if [ -n "$lp" ] && [ -z "$lst" ] && offload_ident "$lp"; then
    case $(tr '\\0' ' ' < "/proc/$lp/cmdline" 2>/dev/null) in *"$1/launch.sh"*) lst=$offload_start ;; esac
  fi
}
# offload_launcher_alive: the launcher read by offload_read_launcher still runs. Without /proc nothing
# identifies a process: liveness falls back to kill -0 (signals are refused there, see offload_stop).
offload_launcher_alive() {
  [ -n "$lp" ] || return 1
  [ -r /proc/self/stat ] || { kill -0 "$lp" 2>/dev/null; return; }
  [ -n "$lst" ] && offload_alive_as "$lp" "$lst"
}
offload_group_alive() {
  if ps -eo pgid=,stat= >/dev/null 2>&1; then
    ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
  else
    # -s 0: dash reads "kill -0 -- -PGID" as an illegal number, and the group would look gone.
    kill -s 0 -- "-$1" 2>/dev/null
  fi
}
# offload_disk_free: the KiB free where the remote dir is, as a marker (a full disk explains a failure).
offload_disk_free() {
  df -Pk . 2>/dev/null | awk 'NR == 2 { print "offload-disk-free " $4 }'
}
# offload_job_group RUN_DIR: pg = the job's process group once it is proven to be the run's: the leader
# named in the pid file (pid and start time, written by the job's own shell) lives with that start time
# and leads its group; a pid file without a start time (an older offload) is proven by the run's
# OFFLOAD_RUN_ID in the leader's environment; a group whose leader has exited, by that marker in a
# member's. Returns 1 with offload_why set when nothing is proven, 2 when no process of the group is left.
offload_job_group() {
  pg=; offload_why=; ojg_p=; ojg_st=
  { read -r ojg_p ojg_st _ < "$1/pid"; } 2>/dev/null
  case "$ojg_p" in
    "") [ -f "$1/pid" ] || return 2; offload_why="its pid file is empty"; return 1 ;;
    *[!0-9]* | 0* | 1) offload_why="its pid file does not name a process group of a job"; return 1 ;;
  esac
  if [ ! -r /proc/self/stat ]; then offload_why="the host has no /proc to prove which processes are the job's"; return 1; fi
  if offload_ident "$ojg_p"; then
    if [ "$offload_pgrp" != "$ojg_p" ]; then offload_why="process $ojg_p does not lead a process group"; return 1; fi
    if [ -n "$ojg_st" ]; then
      [ "$offload_start" = "$ojg_st" ] || { offload_why="process $ojg_p is not the job (it started at another time: a reused pid)"; return 1; }
    elif ! offload_environ_has "$ojg_p" "OFFLOAD_RUN_ID=\${1##*/}"; then
      offload_why="process $ojg_p does not carry this run's OFFLOAD_RUN_ID"; return 1
    fi
    pg=$ojg_p; return 0
  fi
  ojg_left=
  for ojg_s in /proc/[0-9]*/stat; do
    ojg_m=\${ojg_s#/proc/}; ojg_m=\${ojg_m%/stat}
    offload_ident "$ojg_m" && [ "$offload_pgrp" = "$ojg_p" ] || continue
    ojg_left=1
    if offload_environ_has "$ojg_m" "OFFLOAD_RUN_ID=\${1##*/}"; then pg=$ojg_p; return 0; fi
  done
  [ -z "$ojg_left" ] && return 2
  offload_why="no process left in group $ojg_p carries this run's OFFLOAD_RUN_ID"; return 1
}
offload_sleep() { sleep "$1" 2>/dev/null || sleep 1; }
# offload_await_launcher RUN_DIR: while the shell launching the run lives (launching.pid) and has not
# recorded the launcher yet, wait (a minute at most). Leaves that shell's pid in $p.
offload_await_launcher() {
  n=0
  while [ ! -f "$1/launcher.pid" ] && [ $n -lt 600 ]; do
    p=; read -r p < "$1/launching.pid" 2>/dev/null
    if [ -z "$p" ] || ! offload_alive "$p"; then return 0; fi
    offload_sleep 0.1; n=$((n + 1))
  done
}
# offload_stop RUN_DIR GRACE_SECONDS: TERM to the job's process group once it is proven the run's, KILL
# after the grace period if that group still lives, then wait (bounded) for the launcher to run the
# shutdown commands and write exit. Returns 3, with offload_why, when the group is not proven: nothing
# was signalled and nothing was waited for.
offload_stop() {
  [ -f "$1/exit" ] && return 0
  n=0; while [ ! -s "$1/pid" ] && [ $n -lt 50 ]; do offload_sleep 0.1; n=$((n + 1)); done
  offload_job_group "$1"
  [ $? = 1 ] && return 3
  if [ -n "$pg" ]; then
    kill -s TERM -- "-$pg" 2>/dev/null
    n=0; while offload_group_alive "$pg" && [ $n -lt $(($2 * 10)) ]; do offload_sleep 0.1; n=$((n + 1)); done
    # Still the proven group: it was alive at every check since, and a group id is not reused while its
    # group exists.
    if offload_group_alive "$pg"; then kill -s KILL -- "-$pg" 2>/dev/null; printf 'offload-killed %s\\n' "$pg" >&2; fi
  fi
  offload_read_launcher "$1"
  n=0; while [ ! -f "$1/exit" ] && offload_launcher_alive && [ $n -lt 1200 ]; do offload_sleep 0.1; n=$((n + 1)); done
  return 0
}`;
