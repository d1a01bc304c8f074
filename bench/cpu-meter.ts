// CPU accounting for bench/measure-nodes.ts: a cgroup of the bench's own, and the whole machine's busy share.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * CPU is what a job across hosts is bound by here (every host's sshd and processes share this machine's
 * cores), and unlike wall time it does not swell when other work shares the machine. So the bench moves
 * itself into a cgroup of its own before the bed comes up: the bed's sshds, the ssh masters, offload,
 * its ssh clients and every process a host starts are counted, and nothing else on the machine is.
 */
export class CpuMeter {
  readonly #dir: string | undefined;
  readonly #usage: () => number;
  constructor() {
    const v1 = "/sys/fs/cgroup/cpuacct";
    const v2 = "/sys/fs/cgroup";
    const name = `offload-nodes-bench-${process.pid}`;
    let dir: string | undefined;
    let usage = () => Number.NaN;
    try {
      if (existsSync(`${v1}/cpuacct.usage`)) {
        dir = join(v1, name);
        mkdirSync(dir);
        const file = join(dir, "cpuacct.usage");
        usage = () => Number(readFileSync(file, "utf8")) / 1e9;
      } else if (existsSync(`${v2}/cgroup.controllers`)) {
        dir = join(v2, name);
        mkdirSync(dir);
        const file = join(dir, "cpu.stat");
        usage = () => Number(/usage_usec (\d+)/.exec(readFileSync(file, "utf8"))?.[1]) / 1e6;
      }
      if (dir !== undefined) writeFileSync(join(dir, "cgroup.procs"), `${process.pid}\n`);
    } catch (error) {
      process.stderr.write(`no cgroup for CPU accounting (${String(error)}): CPU not measured\n`);
      dir = undefined;
      usage = () => Number.NaN;
    }
    this.#dir = dir;
    this.#usage = usage;
  }
  /** CPU seconds used so far by the bench and everything it started. */
  used(): number {
    return this.#usage();
  }
  /** Moves the bench back out and removes the cgroup (once the bed and its processes are gone). */
  close(): void {
    if (this.#dir === undefined) return;
    try {
      writeFileSync(join(this.#dir, "..", "cgroup.procs"), `${process.pid}\n`);
      rmdirSync(this.#dir);
    } catch {
      // a process of the bed still in it: the empty cgroup is left, named by this bench's pid
    }
  }
}

/** The whole machine's CPU ticks so far, busy and in all (/proc/stat): the share busy during a run. */
export function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}
