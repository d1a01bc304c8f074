// The guardian: the children of an offload that dies (kill -9 included) are stopped, not left running.
import { type ChildProcess, spawn } from "node:child_process";

/**
 * The guardian: one `sh` per offload that holds the read end of a pipe from offload and the list of
 * child process groups still running. A SIGKILL cannot be caught and Linux's parent-death signal is out
 * of Node's reach, but the kernel closes a dead process's pipes: on EOF the guardian TERMs the groups
 * left (rsync then removes its temp file), and KILLs them a second later. Children each lead a group
 * of their own (`detached`), so the ssh, rsync or tar a child started goes too.
 */
const GUARDIAN_SCRIPT = [
  'live=" "',
  "while read -r op pid; do",
  "  case $op in",
  '    +) live="$live$pid " ;;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  '    -) rest=${live#* "$pid" }; [ "$rest" = "$live" ] || live="${live%% "$pid" *} $rest" ;;',
  "  esac",
  "done",
  '[ "$live" = " " ] && exit 0',
  'for pid in $live; do kill -s TERM -- "-$pid" 2>/dev/null; done',
  "sleep 1",
  'for pid in $live; do kill -s KILL -- "-$pid" 2>/dev/null; done',
].join("\n");

let guardian: ChildProcess | undefined;

/** Tells the guardian about a child's process group; returns the call that says it has ended. */
export function guardGroup(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  if (guardian === undefined) {
    guardian = spawn("sh", ["-c", GUARDIAN_SCRIPT], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    guardian.on("error", () => {});
    guardian.stdin?.on("error", () => {});
    // Neither the guardian nor its pipe may keep offload alive.
    guardian.unref();
    (guardian.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const pipe = guardian.stdin;
  pipe?.write(`+ ${pid}\n`);
  return () => {
    pipe?.write(`- ${pid}\n`);
  };
}
