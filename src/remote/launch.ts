// Builds the scripts that start a run on the far side: the detached launcher, the job, and the one
// round trip that checks the lock, writes them and starts them (DESIGN.md, "The run protocol").

import { quoteArgv, quoteShell } from "../shell/quote.js";
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { buildFollowBody } from "./follow.js";
import { LOCK_FILE, MARK, remoteRunDir, STDIN_END } from "./layout.js";
import { buildCheckLockSteps, buildReleaseLock } from "./lock.js";
import { buildSamplerStartLines, buildSamplerStopLines, SAMPLES_FILE } from "./sampler.js";

export interface LaunchPlan {
  runId: string;
  /** Absolute remote dir (resolved by the prepare step). */
  remoteDir: string;
  /** argv as typed after `--`; one word with spaces is taken as shell text (`-- "a && b"`). */
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  startup: readonly string[];
  shutdown: readonly string[];
  graceSeconds: number;
  /** Stream the log in the same round trip (false for --no-wait). */
  follow: boolean;
  /** Launch round-trip lines that read what precedes spec.json on stdin (the secrets file). */
  receiveLines: readonly string[];
  /** Launcher lines run after the env exports, before the job starts (activate the venv, source secrets). */
  setupLines: readonly string[];
  /** Folder of the remote dir the command runs in (`a/b`: offload ran in `<root>/a/b`); "" the root. */
  workdir?: string;
  /** Seconds between machine samples (sampler.ts); 0 or absent: no sampler. */
  sampleSeconds?: number;
}

/** Epoch milliseconds on the host (GNU date; whole seconds where `%N` is not supported). */
const NOW = `{ t=$(date +%s%N 2>/dev/null); case $t in *[!0-9]* | "") t=$(date +%s)000000000 ;; esac; printf '%s\\n' "\${t%??????}"; }`;

/** The command line of the job: each word quoted, unless the user gave one string of shell text. */
export function buildJobCommand(command: readonly string[]): string {
  const [first] = command;
  if (command.length === 1 && first !== undefined && /\s/.test(first)) return first;
  return `exec ${quoteArgv(command)}`;
}

/**
 * The job: startup commands in the remote dir (a failure skips the command), then the command itself in
 * the counterpart of the folder offload ran in (made if the sync left it out, as tar does empty folders).
 */
export function buildJobScript(plan: LaunchPlan): string {
  const lines = ["# offload job: startup commands, then the command"];
  if (plan.startup.length > 0) lines.push(...buildStartupLines(plan.startup, plan.command));
  if (plan.workdir) {
    const dir = `./${quoteShell(plan.workdir)}`;
    lines.push(`mkdir -p ${dir} && cd ${dir} || exit 1`);
  }
  lines.push(buildJobCommand(plan.command));
  return `${lines.join("\n")}\n`;
}

/**
 * Startup commands run in the job's shell (an `export` or `cd` there holds for the command) under
 * `set -e`; the EXIT trap, which runs only when one fails, says in the log which one failed, with its
 * status, and that the command did not run. A stop's signal ends the shell without the trap.
 */
function buildStartupLines(startup: readonly string[], command: readonly string[]): string[] {
  const shown = command.length === 1 ? (command[0] ?? "") : quoteArgv(command);
  const lines = [
    `offload_startup_failed() {`,
    `  [ "$1" = 0 ] && return`,
    `  printf 'offload: startup command %s of ${startup.length} failed (exit %s): %s\\n' "$offload_step" "$1" "$offload_startup" >&2`,
    `  printf 'offload: so the command did not run (%s); fix or remove that command under startup: in offload.yaml, then run again\\n' ${quoteShell(shown)} >&2`,
    `}`,
    `trap 'offload_startup_failed $?' EXIT`,
    "set -e",
  ];
  startup.forEach((entry, index) => {
    const first = entry.trim().split("\n")[0] ?? "";
    const label = first === entry.trim() ? first : `${first} …`;
    lines.push(`offload_step=${index + 1} offload_startup=${quoteShell(label)}`, entry);
  });
  lines.push("set +e", "trap - EXIT");
  return lines;
}

/**
 * launch.sh: runs detached under setsid, starts the job in a process group of its own (so a stop can
 * signal the whole group and still leave the launcher to run shutdown commands), then writes `exit`
 * atomically, last, and releases the lock.
 */
export function buildLauncherScript(plan: LaunchPlan): string {
  const run = quoteShell(remoteRunDir(plan.runId));
  const exports = [
    // The job's PATH (-e PATH=…) is the launcher's too: keep the login one for what offload runs.
    "offload_path=$PATH",
    ...Object.entries(plan.env).map(([key, value]) => {
      // Names are checked where settings are read; a name is a shell word here, so check again.
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`not a variable name: ${key}`);
      return `export ${key}=${quoteShell(value)}`;
    }),
    ...(Object.hasOwn(plan.env, "PATH") ? [PATH_FALLBACK] : []),
  ];
  const shutdown = plan.shutdown.map((command) => `( ${command}\n) || true`);
  const jobShell = buildJobShell(plan);
  const every = plan.sampleSeconds ?? 0;
  const sampler =
    every > 0
      ? {
          start: buildSamplerStartLines({ everySeconds: every }),
          stop: buildSamplerStopLines(),
        }
      : { start: [], stop: [] };
  return [
    `# offload launcher for run ${plan.runId}`,
    `cd ${quoteShell(plan.remoteDir)} || exit 1`,
    `R=${run}`,
    `export OFFLOAD_RUN_ID=${quoteShell(plan.runId)} OFFLOAD_RUN_DIR="$PWD/$R" OFFLOAD_EVENTS="$PWD/$R/events.jsonl"`,
    ...exports,
    ...plan.setupLines,
    // The job's shell runs the job's text itself rather than starting one more sh: each process start
    // costs milliseconds on the critical path of a short job. It records its pid with its start time, the
    // proof a stop needs before it signals the group (alive.ts). Its $0 is `offload`: the shell prefixes
    // its own messages (`nosuchtool: not found`) with it, and with a sourced file's path, which would
    // show the user offload's insides.
    `if command -v setsid >/dev/null 2>&1; then`,
    `  setsid sh -c ${jobShell} offload "$R" &`,
    `else`,
    `  sh -c ${jobShell} offload "$R" &`,
    `fi`,
    // The job's start and end by the host's clock: durations never depend on when someone followed.
    // The launcher's stderr is the job's log: its own writes failing (a disk the job filled) must not
    // add lines there. An empty `ended` then tells the follow to look at the disk (follow.ts).
    `jp=$!; { ${NOW} > "$R/started"; } 2>/dev/null`,
    ...startUnlessEnded(sampler.start),
    `wait $jp; code=$?; { ${NOW} > "$R/ended"; } 2>/dev/null`,
    ...sampler.stop,
    ...shutdown,
    // On a full disk exit.tmp cannot be written: the status goes into exit.reserve, in place (1<>, no
    // truncation, padded to the bytes written at launch), which needs no free block.
    `if printf '%s\\n' "$code" 2>/dev/null > "$R/exit.tmp"; then mv -f "$R/exit.tmp" "$R/exit"`,
    `else printf '%-3s\\n' "$code" 2>/dev/null 1<> "$R/exit.reserve" && mv -f "$R/exit.reserve" "$R/exit"; fi`,
    // One rm for the leftovers and the lock (if still this run's): each process here delays the end.
    `holder=; read -r holder _ < ${LOCK_FILE} 2>/dev/null; lock=`,
    `if [ "$holder" = ${quoteShell(plan.runId)} ]; then lock=${LOCK_FILE}; fi`,
    `rm -f "$R/exit.reserve" "$R/exit.tmp" $lock`,
    "",
  ].join("\n");
}

/**
 * Launcher lines that start a helper beside the job (`$jp`) only while the job runs: a job that has
 * already ended would only wait for the helper's process starts, and a short job's end would show that
 * much later. Ended: a zombie, or gone from /proc (the shell reaps a child while it waits for another,
 * here the `date` of the start stamp). Read with builtins; without /proc the helper starts.
 */
export function startUnlessEnded(lines: readonly string[]): string[] {
  if (lines.length === 0) return [];
  return [
    `js=; if [ -r /proc/self/stat ]; then js=Z; { read -r js < "/proc/$jp/stat"; } 2>/dev/null; js=\${js##*) }; fi`,
    `case $js in Z*) sp= ;; *)`,
    ...lines.map((line) => `  ${line}`),
    `;; esac`,
  ];
}

/** The job's shell: `$$` and its start time (field 22 of /proc/$$/stat) into pid, then the job. */
function buildJobShell(plan: LaunchPlan): string {
  return quoteShell(
    `{ read -r offload_stat < /proc/$$/stat; } 2>/dev/null; offload_r=$1; set -- \${offload_stat##*) }; { echo "$$ \${20}" > "$offload_r/pid"; } 2>/dev/null; set --\n${buildJobScript(plan)}`,
  );
}

/**
 * A PATH without sh, mv or rm would leave the job unstarted, its exit status unwritten (a "lost" run)
 * and the secrets file in place: say so in the log and append the login PATH, searched last.
 */
const PATH_FALLBACK = `for offload_tool in sh mv rm; do
  if ! command -v "$offload_tool" >/dev/null 2>&1; then
    printf 'offload: the PATH given to the run (%s) has no %s; the login PATH is appended to it\\n' "$PATH" "$offload_tool" >&2
    export PATH="$PATH:$offload_path"; break
  fi
done`;

/**
 * Launch round-trip lines before the follow: a job that ends within 50 ms (`true`, a failed import) has
 * ended before the follow starts, which then sends its whole log and its exit at once; no tail, no
 * watcher, and none of their polls between the job's end and the reply. The launcher is this shell's
 * child, so `wait` returns as it ends, or when a trapped USR1 from the helper says the time is up (a
 * trapped signal ends a `wait`). A signal that came before the `wait` began is seen in the flag, and
 * the helper repeats it every 200 ms for the instant between the two, only while this shell is the one
 * it started beside (its start time: a pid proves nothing alone); the trap stays, so a late one does
 * nothing. Where sleep takes no fractions the helper signals at once. A longer job's log starts 50 ms
 * later.
 */
/**
 * A held launch told to hand off (HELD_GO_HANDOFF) ends here while the job runs on: the prepare's pipe
 * would carry every byte of the log through offload's reads of it, where a stream of its own can write
 * straight into the local log file (a third of the CPU of a fast log, measured). A job already over
 * sends its log and exit in this reply as before.
 */
const HAND_OFF = `if [ -n "$offload_handoff" ] && [ ! -f "$R/exit" ]; then printf '${MARK.handedOff}\\n' >&2; exit 0; fi`;

const AWAIT_SHORT_JOB = [
  "offload_up=; trap offload_up=1 USR1",
  `( offload_me=; offload_ident $$ && offload_me=$offload_start; sleep 0.05 2>/dev/null
  while { [ -z "$offload_me" ] || { offload_ident $$ && [ "$offload_start" = "$offload_me" ]; }; } && kill -s USR1 $$; do
    sleep 0.2 || exit 0
  done ) </dev/null >/dev/null 2>&1 &`,
  `offload_timer=$!; [ -n "$offload_up" ] || wait "$lp" 2>/dev/null; kill "$offload_timer" 2>/dev/null`,
];

/**
 * The launch round trip: check that the run still holds the lock, write spec.json (from stdin) and launch.sh (the job inside), start the
 * launcher detached with every fd redirected (nothing may hold the ssh channel open), then (unless
 * --no-wait) stream the log from byte 0 in the same connection.
 */
export function buildLaunchScript(plan: LaunchPlan): string {
  const run = quoteShell(remoteRunDir(plan.runId));
  return [
    PROTOCOL_FUNCTIONS,
    `cd ${quoteShell(plan.remoteDir)} || exit 1`,
    `R=${run}`,
    // The prepare round trip took the lock before the sync, and made the run dir.
    ...buildCheckLockSteps(plan.runId),
    // Who is launching: a status check after a connection failure waits while this shell lives.
    `echo $$ > "$R/launching.pid"`,
    ...plan.receiveLines,
    // spec.json is one line, then STDIN_END: a stdin cut short by a failed connection starts nothing.
    `IFS= read -r offload_spec; IFS= read -r offload_end`,
    `if [ "$offload_end" != ${STDIN_END} ]; then`,
    `  ${buildReleaseLock(plan.runId)}`,
    `  rm -rf "$R"; printf '${MARK.aborted}\\n' >&2; exit 4`,
    `fi`,
    // exit.reserve is written now, for the launcher to overwrite in place if the job fills the disk:
    // the status is recorded even then. A disk already full starts nothing and says so.
    // spec.json and launch.sh hold the job's env (-e, env:): readable by the user alone. The umask is
    // read from /proc (builtins only: no fork on the launch path) and put back before the job starts.
    `offload_umask=; while read -r k v; do [ "$k" = Umask: ] && { offload_umask=$v; break; }; done 2>/dev/null </proc/self/status`,
    `[ -n "$offload_umask" ] || offload_umask=$(umask)`,
    `umask 077`,
    `if ! { printf '%s\\n' "$offload_spec" > "$R/spec.json" &&`,
    `  printf '%s' ${quoteShell(buildLauncherScript(plan))} > "$R/launch.sh" && umask "$offload_umask" &&`,
    `  : >> "$R/output.log" && printf '999\\n' > "$R/exit.reserve"${plan.sampleSeconds ? ` && : >> "$R/${SAMPLES_FILE}"` : ""}; } 2>/dev/null; then`,
    `  ${buildReleaseLock(plan.runId)}`,
    `  rm -rf "$R"; offload_disk_free >&2; exit 5`,
    `fi`,
    // setsid alone suffices: a new session has no terminal whose hangup could reach it.
    `if command -v setsid >/dev/null 2>&1; then`,
    `  setsid sh "$R/launch.sh" </dev/null >>"$R/output.log" 2>&1 &`,
    `else`,
    `  nohup sh "$R/launch.sh" </dev/null >>"$R/output.log" 2>&1 &`,
    `fi`,
    // launcher.pid before the marker: a status check that finds no launcher.pid may say "not started".
    // With its start time: a later liveness check must not take a reused pid for the launcher.
    `lp=$!; offload_ident "$lp"; lst=$offload_start; echo "$lp $lst" > "$R/launcher.pid"`,
    // With the dir's physical path, where the download later reads from: `cd -P .` makes $PWD that
    // path (a builtin: no fork; the launcher has its environment already), and one printf writes the
    // marker whole, never in two pieces a reader could see apart.
    `if cd -P . 2>/dev/null; then printf '${MARK.launched} %s %s\\n' "$lp" "$PWD" >&2; else printf '${MARK.launched} %s\\n' "$lp" >&2; fi`,
    ...(plan.follow ? [...AWAIT_SHORT_JOB, HAND_OFF] : []),
    plan.follow ? buildFollowBody(0, plan.sampleSeconds ? 0 : undefined) : "",
  ].join("\n");
}

/** The line a held prepare waits for before it launches (see buildHeldLaunchSteps). */
export const HELD_GO = "launch";
/** The go line of a held launch whose log goes to a stream of its own once the job outlives its wait. */
export const HELD_GO_HANDOFF = `${HELD_GO} handoff`;

/**
 * Steps that end a prepare round trip which proved the last sync unchanged (remote/sync-proof.ts):
 * instead of exiting, it says MARK.held and waits for one line on its stdin. `launch` runs the launch
 * round trip (`launchScript`, whose own stdin follows that line) in the same connection, under the lock
 * this shell just took; anything else (offload syncs first, or launches otherwise), or a stdin that
 * ends, exits having started nothing. A prepare that did not prove the sync unchanged exits as before.
 */
export function buildHeldLaunchSteps(launchScript: string): string[] {
  return [
    `[ "$offload_unchanged" = yes ] || exit 0`,
    `printf '${MARK.held}\\n' >&2`,
    `offload_go=; offload_handoff=; IFS= read -r offload_go`,
    `case $offload_go in ${HELD_GO}) ;; ${quoteShell(HELD_GO_HANDOFF)}) offload_handoff=1 ;; *) exit 0 ;; esac`,
    launchScript,
  ];
}
