// Shell functions shared by the run protocol's scripts: is a process or a process group alive, and how
// to stop a run. Orphans can sit as zombies for a while (a slow PID 1) and `kill -0` succeeds on a
// zombie, so a zombie counts as gone.

export const PROTOCOL_FUNCTIONS = `offload_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  # Builtins only (read, parameter expansion): this runs every tick of a follow.
  if [ -r "/proc/$1/stat" ] && read -r offload_stat < "/proc/$1/stat"; then
    offload_stat=\${offload_stat##*) }
    [ "\${offload_stat%% *}" = Z ] && return 1
  fi
  return 0
}
offload_group_alive() {
  if ps -eo pgid=,stat= >/dev/null 2>&1; then
    ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
  else
    kill -0 -- "-$1" 2>/dev/null
  fi
}
# offload_disk_free: the KiB free where the remote dir is, as a marker (a full disk explains a failure).
offload_disk_free() {
  df -Pk . 2>/dev/null | awk 'NR == 2 { print "offload-disk-free " $4 }'
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
# offload_stop RUN_DIR GRACE_SECONDS: TERM to the job's process group, KILL after the grace period, then
# wait (bounded) for the launcher to run the shutdown commands and write exit.
offload_stop() {
  [ -f "$1/exit" ] && return 0
  n=0; while [ ! -s "$1/pid" ] && [ $n -lt 50 ]; do offload_sleep 0.1; n=$((n + 1)); done
  pg=$(cat "$1/pid" 2>/dev/null)
  if [ -n "$pg" ]; then
    kill -s TERM -- "-$pg" 2>/dev/null
    n=0; while offload_group_alive "$pg" && [ $n -lt $(($2 * 10)) ]; do offload_sleep 0.1; n=$((n + 1)); done
    if offload_group_alive "$pg"; then kill -s KILL -- "-$pg" 2>/dev/null; printf 'offload-killed %s\\n' "$pg" >&2; fi
  fi
  lp=$(cat "$1/launcher.pid" 2>/dev/null)
  n=0; while [ ! -f "$1/exit" ] && [ -n "$lp" ] && offload_alive "$lp" && [ $n -lt 1200 ]; do offload_sleep 0.1; n=$((n + 1)); done
}`;
