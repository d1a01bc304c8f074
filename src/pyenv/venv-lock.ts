// The env build's lock: `mkdir <dir>.lock` (atomic everywhere, NFS included), an owner line inside it,
// and the rules for waiting on another build and for taking over one that died.

/**
 * Shell lines that end holding "$lock" (or exit: `offload-env reused` when another build finished the
 * env meanwhile, `offload-env failed 75` after `waitSeconds`). Expects `$dir`, `$lock`, `$ready`,
 * `$rebuild` and the `offload_env_fail`/`offload_env_done` functions of the env script.
 *
 * The owner line is `<epoch> <host> <pid>`. On the same host a lock is stale as soon as its pid is gone,
 * however long a build takes (a big wheel can compile for an hour); from another host sharing the home
 * only its age can tell, hence `staleSeconds`. A lock seen without an owner for 10 polls belongs to a
 * build killed between its mkdir and its write.
 */
export function buildEnvLockSteps(waitSeconds: number, staleSeconds: number): string[] {
  const wait = Math.max(0, Math.floor(waitSeconds));
  const stale = Math.max(0, Math.floor(staleSeconds));
  return [
    `offload_env_host=$(uname -n 2>/dev/null || echo unknown)`,
    `offload_env_me="$(date +%s) $offload_env_host $$"`,
    `offload_env_take() { mkdir "$lock" 2>/dev/null || return 1; printf '%s\\n' "$offload_env_me" > "$lock/owner"; }`,
    `offload_env_stale() {`,
    `  set -f; set -- $1; set +f`,
    `  if [ "$2" = "$offload_env_host" ]; then`,
    `    kill -0 "$3" 2>/dev/null || [ -d "/proc/$3" ] || return 0`,
    `    return 1`,
    `  fi`,
    `  [ $(($(date +%s) - $1)) -gt ${stale} ]`,
    `}`,
    // Renamed aside before deletion, and put back when the owner changed meanwhile: a second waiter that
    // judged the same lock stale must not delete the fresh lock of the first one that took it over.
    `offload_env_reclaim() {`,
    `  mv "$lock" "$lock.stale.$$" 2>/dev/null || return 0`,
    `  if [ "$(cat "$lock.stale.$$/owner" 2>/dev/null)" != "$1" ]; then mv "$lock.stale.$$" "$lock" 2>/dev/null; fi`,
    `  rm -rf "$lock.stale.$$"`,
    `  printf 'offload-env: took over the lock of a build that is gone (%s)\\n' "$1"`,
    `}`,
    `waited=0; unowned=0; said=`,
    `while ! offload_env_take; do`,
    `  if [ $rebuild = 0 ] && [ -f "$ready" ]; then offload_env_done reused; fi`,
    `  owner=$(cat "$lock/owner" 2>/dev/null)`,
    `  case $owner in`,
    `    [0-9]*" "*" "[0-9]*)`,
    `      unowned=0`,
    `      if offload_env_stale "$owner"; then offload_env_reclaim "$owner"; continue; fi ;;`,
    `    *)`,
    `      [ -d "$lock" ] && unowned=$((unowned + 1))`,
    `      if [ $unowned -gt 10 ]; then unowned=0; offload_env_reclaim "$owner"; continue; fi ;;`,
    `  esac`,
    `  if [ -z "$said" ] && [ -n "$owner" ]; then`,
    `    said=1; printf 'offload-env waiting %s\\n' "$owner" >&2`,
    `    printf 'offload-env: waiting for another build of %s (%s)\\n' "$dir" "$owner"`,
    `  fi`,
    `  [ $waited -lt ${wait} ] || offload_env_fail 75 "gave up after ${wait} s waiting for the build that holds $lock ($owner); delete that directory if no build is running"`,
    `  sleep 1; waited=$((waited + 1))`,
    `done`,
  ];
}
