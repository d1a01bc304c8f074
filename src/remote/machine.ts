// Scripts offload runs on a cloud machine it made (pure builders): the watcher behind the dead-man
// switch and the idle stop, its (re-)arming, and the `setup:` commands run once per machine.
import { createHash } from "node:crypto";
import { quoteShell } from "../shell/quote.js";

/** Where the machine's own offload state lives: deadline, idle rule, watcher pid, setup marks. */
const DIR = '"$HOME"/.offload/machine';

/** Powers the machine off with the rights it has: root, or a user with passwordless sudo. */
export const DEFAULT_POWER_OFF =
  "sudo -n shutdown -h now 2>/dev/null || shutdown -h now 2>/dev/null || sudo -n poweroff 2>/dev/null || poweroff";

export interface WatcherPlan {
  /** Epoch seconds at which the machine powers off unless offload moves the deadline on; 0: none. */
  deadline: number;
  /** Seconds with no offload run and no SSH session after which a kept machine stops; 0: never. */
  idleSeconds: number;
  /** The shell command that powers the machine off. */
  powerOff: string;
  /** Seconds between the watcher's checks. */
  pollSeconds?: number;
}

/**
 * The watcher loop: once past the deadline, or idle for `idle` seconds (no offload job running, no
 * sshd session in this network namespace), it writes why to `fired` and powers the machine off.
 * Deadline and idle rule are read from files each round, so re-arming is a file write.
 */
function watcherLoop(powerOff: string, pollSeconds: number): string {
  return [
    `d=${DIR}; idle_since=$(date +%s)`,
    "while :; do",
    '  now=$(date +%s); dl=$(cat "$d/deadline" 2>/dev/null); idle=$(cat "$d/idle" 2>/dev/null)',
    '  if [ -n "$dl" ] && [ "$dl" -gt 0 ] && [ "$now" -ge "$dl" ]; then why=deadline; break; fi',
    "  if busy; then idle_since=$now;",
    '  elif [ -n "$idle" ] && [ "$idle" -gt 0 ] && [ $((now - idle_since)) -ge "$idle" ]; then why=idle; break; fi',
    `  sleep ${pollSeconds}`,
    "done",
    'echo "$why $(date +%s)" >"$d/fired"',
    powerOff,
  ].join("\n");
}

/**
 * Busy while an offload job's launcher runs (under the default remote dirs) or an sshd session process
 * lives in this machine's network namespace (SkyPilot's jobs-and-ssh rule). Patterns are anchored: the
 * watcher's own command line holds them as text.
 */
const BUSY_FUNCTION = [
  "busy() {",
  '  for r in "$HOME"/.offload/work/*/.offload/runs/*; do',
  '    [ -e "$r/launcher.pid" ] && [ ! -e "$r/exit" ] && kill -0 "$(cat "$r/launcher.pid")" 2>/dev/null && return 0',
  "  done",
  "  me=$(readlink /proc/self/ns/net)",
  "  for p in /proc/[0-9]*; do",
  '    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$me" ] || continue',
  '    c=$(tr "\\0" " " <"$p/cmdline" 2>/dev/null)',
  '    case "$c" in "sshd: "*@*|"sshd-session: "*@*) return 0;; esac',
  "  done",
  "  return 1",
  "}",
].join("\n");

/**
 * Writes the deadline and idle rule, and starts the watcher unless one already runs. Run with `sh -s`.
 * Prints `offload-watcher <pid>` on stdout.
 */
export function buildArmScript(plan: WatcherPlan): string {
  const loop = `${BUSY_FUNCTION}\n${watcherLoop(plan.powerOff, plan.pollSeconds ?? 5)}`;
  return [
    "set -e",
    `d=${DIR}; mkdir -p "$d"`,
    `echo ${Math.floor(plan.deadline)} >"$d/deadline.tmp" && mv "$d/deadline.tmp" "$d/deadline"`,
    `echo ${Math.floor(plan.idleSeconds)} >"$d/idle"`,
    'pid=$(cat "$d/watcher.pid" 2>/dev/null || true)',
    'if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "offload-watcher $pid"; exit 0; fi',
    'rm -f "$d/fired"',
    `setsid nohup sh -c ${quoteShell(loop)} </dev/null >"$d/watcher.log" 2>&1 &`,
    'echo $! >"$d/watcher.pid"',
    'echo "offload-watcher $!"',
  ].join("\n");
}

/** Moves the deadline (the re-arm while offload follows), and sets the idle rule when given. */
export function buildRearmScript(deadline: number, idleSeconds?: number): string {
  return [
    `d=${DIR}; mkdir -p "$d"`,
    `echo ${Math.floor(deadline)} >"$d/deadline.tmp" && mv "$d/deadline.tmp" "$d/deadline"`,
    ...(idleSeconds === undefined ? [] : [`echo ${Math.floor(idleSeconds)} >"$d/idle"`]),
  ].join("\n");
}

/** A name for this list of setup commands: the mark that they ran on a machine. */
export function setupKey(commands: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(commands)).digest("hex").slice(0, 16);
}

/**
 * Runs the `setup:` commands once per machine: skipped (saying `offload-setup-cached` on stderr) when
 * the mark of this list is there; the mark is written only after every command succeeded.
 */
export function buildSetupScript(commands: readonly string[]): string {
  const mark = `"$d"/setup-${setupKey(commands)}`;
  return [
    `d=${DIR}; mkdir -p "$d"`,
    `if [ -e ${mark} ]; then echo offload-setup-cached >&2; exit 0; fi`,
    // stdout joins stderr, which streams home as it comes: a long apt-get is seen while it runs.
    ...commands.map((command) => `( ${command}\n) 1>&2 || exit $?`),
    `: >${mark}`,
  ].join("\n");
}
