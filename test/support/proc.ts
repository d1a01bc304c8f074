// What the run protocol records of a process: its pid and start time (field 22 of /proc/PID/stat), the
// proof that a pid still names the same process and not a reused one.
import { readFileSync } from "node:fs";

export function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[19] ?? "";
}

/** A pid file's content as the run protocol writes it: `<pid> <start time>`. */
export function identityOf(pid: number | undefined): string {
  if (pid === undefined) throw new Error("no pid");
  return `${pid} ${startTimeOf(pid)}`;
}
