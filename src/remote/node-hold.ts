// The end of a node's prepare round trip (a job across hosts): the shell keeps its connection, under
// the lock it just took, and does what offload then sends down its stdin, one step a line: `tar N` (a
// first sync's archive of N bytes follows: unpacked, and the step's status said on stderr), `ask N`
// (a script of N bytes run in a shell of its own, saying its answer on stderr: node 0's rendezvous),
// then `launch N` (the launch script of N bytes follows, then that launch's own stdin). So a node's start
// is one ssh: no connection of its own for the upload, none for the launch. Any other line, or a stdin
// that ends (offload declined, died or lost the link), exits having started nothing.
import { quoteShell } from "../shell/quote.js";
import { MARK } from "./layout.js";

/** Stderr line of a node's held shell: `offload-held-head gnu` where `head -c` reads no byte past N. */
export const HELD_HEAD_MARK = "offload-held-head";
/** Stderr line that ends a held step: `offload-held-step STATUS`. */
export const HELD_STEP_MARK = "offload-held-step";

/** A GNU tar there reads the records the archive was made with (sync/first-sync.ts). */
const UNPACK = "tar -xpf - -b 256";

/** The last line of every step's script as sent: a step read without it was cut short. */
function stepEnd(bytes: number): string {
  return `# offload-step-end ${bytes}`;
}

/** A step's script as it goes down the connection: the script, then its end line (counted in N). */
function withStepEnd(script: string): { bytes: number; text: string } {
  const body = script.endsWith("\n") ? script : `${script}\n`;
  // The end line names the count it belongs to; its own digits are part of that count.
  let bytes = Buffer.byteLength(body) + stepEnd(0).length;
  while (Buffer.byteLength(body) + stepEnd(bytes).length !== bytes)
    bytes = Buffer.byteLength(body) + stepEnd(bytes).length;
  return { bytes, text: `${body}${stepEnd(bytes)}` };
}

/**
 * Steps appended to a prepare that took the lock (and made the run's dir). `head -c` counts
 * the bytes of a step only where it is GNU's (BSD's and busybox's may read ahead, taking bytes of the
 * next step): elsewhere offload sends no archive down the held connection, and the launch script (a few
 * KiB) is read by `dd bs=1`, one byte a call. A step's script that does not arrive whole is never run.
 */
export function buildNodeHoldSteps(gnuHeadBoot?: string): string[] {
  // A host that said its head is GNU's in the boot it is still in (session/held-head.ts) is not asked
  // again: offload_boot was read by the prepare, with a builtin.
  const known =
    gnuHeadBoot === undefined
      ? ""
      : `if [ "$offload_boot" = ${quoteShell(gnuHeadBoot)} ]; then offload_head=gnu; else `;
  // A step's script (the launch holds the job's env: -e, env:) is read into a variable by a command
  // substitution and run by eval: it never touches the disk, and costs one process (head), not the
  // two of a file written (head) and then counted (wc). It arrived whole where it ends with its end
  // line, which names its byte count (the shell's own length of a string counts characters, not bytes,
  // in some shells' locales). This runs for every node of every job.
  return [
    `offload_head=; ${known}case $(head --version 2>/dev/null) in *GNU*) offload_head=gnu ;; esac${known ? "; fi" : ""}`,
    // Takes the script of a step ($1 bytes) into offload_s, or exits having started nothing.
    `offload_take() {`,
    `  if [ "$offload_head" = gnu ]; then offload_s=$(head -c "$1")`,
    `  else offload_s=$(dd bs=1 count="$1" 2>/dev/null); fi`,
    `  case $offload_s in *"${stepEnd(0).slice(0, -1)}$1") ;; *)`,
    `    offload_s=; echo "offload: a held step did not arrive whole; nothing was started" >&2; exit 1 ;;`,
    `  esac`,
    `}`,
    `printf '${HELD_HEAD_MARK} %s\n' "\${offload_head:-other}" >&2`,
    `printf '${MARK.held}\n' >&2`,
    `while IFS= read -r offload_step; do`,
    `  offload_n=\${offload_step#* }`,
    `  case $offload_n in "" | *[!0-9]*) exit 0 ;; esac`,
    `  case $offload_step in`,
    `  "tar "*)`,
    `    [ "$offload_head" = gnu ] || exit 1`,
    `    head -c "$offload_n" | ${UNPACK}`,
    `    printf '${HELD_STEP_MARK} %s\n' "$?" >&2 ;;`,
    // A question (node 0's rendezvous): its own shell, never the held stdin, its answer on stderr.
    `  "ask "*)`,
    `    offload_take "$offload_n"`,
    `    ( eval "$offload_s" ) < /dev/null > /dev/null`,
    `    printf '${HELD_STEP_MARK} %s\n' "$?" >&2; offload_s= ;;`,
    `  "launch "*)`,
    `    offload_take "$offload_n"`,
    `    eval "$offload_s"`,
    `    exit ;;`,
    `  *) exit 0 ;;`,
    `  esac`,
    `done`,
    `exit 0`,
  ];
}

/** The line and script of a held question step (its answer is what it says on stderr). */
export function formatHeldAsk(script: string): string {
  const step = withStepEnd(script);
  return `ask ${step.bytes}\n${step.text}`;
}

/** The line that starts a held tar step, which `bytes` bytes of archive follow. */
export function formatHeldTar(bytes: number): string {
  return `tar ${bytes}\n`;
}

/** What goes down a held node's stdin to launch: the step line, the script, the launch's own stdin. */
export function formatHeldLaunch(script: string, stdin: string): string {
  const step = withStepEnd(script);
  return `launch ${step.bytes}\n${step.text}${stdin}`;
}

/** Whether the held shell said its `head -c` is GNU's. */
export function readHeldHead(stderr: string): boolean {
  return stderr.split("\n").includes(`${HELD_HEAD_MARK} gnu`);
}

/** The status of the first held step that ended in `stderr`, or undefined while none has. */
export function readHeldStep(stderr: string): number | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith(`${HELD_STEP_MARK} `));
  if (line === undefined) return undefined;
  const status = Number(line.slice(HELD_STEP_MARK.length + 1));
  return Number.isInteger(status) ? status : 1;
}
