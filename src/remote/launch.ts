// Builds the scripts that start a run on the far side: the detached launcher, the job, and the one
// round trip that takes the lock, writes them and starts them (DESIGN.md, "The run protocol").
import { buildFollowBody } from "./follow.js";
import { LOCK_FILE, MARK, remoteRunDir, STATE_DIR } from "./layout.js";
import { quoteArgv, quoteShell } from "./quote.js";

export interface LaunchPlan {
  runId: string;
  /** Absolute remote dir (resolved by the prepare step). */
  remoteDir: string;
  /** argv as typed after `--`; one word with spaces is taken as shell text (`-- "a && b"`). */
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  startup: readonly string[];
  shutdown: readonly string[];
}

/** The command line of the job: each word quoted, unless the user gave one string of shell text. */
export function buildJobCommand(command: readonly string[]): string {
  const [first] = command;
  if (command.length === 1 && first !== undefined && /\s/.test(first)) return first;
  return `exec ${quoteArgv(command)}`;
}

/** job.sh: startup commands (a failure skips the command), then the command itself. */
export function buildJobScript(plan: LaunchPlan): string {
  const lines = ["# offload job: startup commands, then the command"];
  if (plan.startup.length > 0) lines.push("set -e", ...plan.startup, "set +e");
  lines.push(buildJobCommand(plan.command));
  return `${lines.join("\n")}\n`;
}

/**
 * launch.sh: runs detached under setsid, starts the job in a process group of its own (so a stop can
 * signal the whole group and still leave the launcher to run shutdown commands), then writes `exit`
 * atomically, last, and releases the lock.
 */
export function buildLauncherScript(plan: LaunchPlan): string {
  const run = remoteRunDir(plan.runId);
  const exports = Object.entries(plan.env).map(
    ([key, value]) => `export ${key}=${quoteShell(value)}`,
  );
  const shutdown = plan.shutdown.map((command) => `( ${command}\n) || true`);
  return [
    `# offload launcher for run ${plan.runId}`,
    `cd ${quoteShell(plan.remoteDir)} || exit 1`,
    `R=${run}`,
    `echo $$ > "$R/launcher.pid"`,
    `export OFFLOAD_RUN_ID=${plan.runId} OFFLOAD_RUN_DIR="$PWD/$R" OFFLOAD_EVENTS="$PWD/$R/events.jsonl"`,
    ...exports,
    `if command -v setsid >/dev/null 2>&1; then`,
    `  setsid sh -c 'echo $$ > "$0/pid"; exec sh "$0/job.sh"' "$R" &`,
    `else`,
    `  sh -c 'echo $$ > "$0/pid"; exec sh "$0/job.sh"' "$R" &`,
    `fi`,
    `wait $!; code=$?`,
    ...shutdown,
    `printf '%s\\n' "$code" > "$R/exit.tmp" && mv -f "$R/exit.tmp" "$R/exit"`,
    `if [ "$(sed -n '1s/ .*//p' ${LOCK_FILE} 2>/dev/null)" = ${plan.runId} ]; then rm -f ${LOCK_FILE}; fi`,
    "",
  ].join("\n");
}

/**
 * The launch round trip: take the lock, write spec.json (from stdin), launch.sh and job.sh, start the
 * launcher detached with every fd redirected (nothing may hold the ssh channel open), then stream the
 * log from byte 0 in the same connection.
 */
export function buildLaunchScript(plan: LaunchPlan): string {
  const run = remoteRunDir(plan.runId);
  return [
    `cd ${quoteShell(plan.remoteDir)} || exit 1`,
    `R=${run}`,
    `mkdir -p ${STATE_DIR}/runs`,
    `if ! ( set -C; printf '%s %s\\n' ${plan.runId} "$(date +%s)" > ${LOCK_FILE} ) 2>/dev/null; then`,
    `  printf '${MARK.locked} %s\\n' "$(cat ${LOCK_FILE} 2>/dev/null)" >&2; exit 3`,
    `fi`,
    `mkdir -p "$R"`,
    `cat > "$R/spec.json"`,
    `printf '%s' ${quoteShell(buildLauncherScript(plan))} > "$R/launch.sh"`,
    `printf '%s' ${quoteShell(buildJobScript(plan))} > "$R/job.sh"`,
    `: >> "$R/output.log"`,
    `if command -v setsid >/dev/null 2>&1; then`,
    `  setsid nohup sh "$R/launch.sh" </dev/null >>"$R/output.log" 2>&1 &`,
    `else`,
    `  nohup sh "$R/launch.sh" </dev/null >>"$R/output.log" 2>&1 &`,
    `fi`,
    `lp=$!`,
    `printf '${MARK.launched} %s\\n' "$lp" >&2`,
    buildFollowBody(0),
  ].join("\n");
}
