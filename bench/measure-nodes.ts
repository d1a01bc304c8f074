// `node --import tsx bench/measure-nodes.ts [N]`: a job across N hosts against the same run on one host,
// alternating round by round on a bed of its own (its own bridge and /24, never the shared test bed's
// hosts), taken down at the end. Issue 15's target: launch on 16 hosts ≤ 2× one host, as the nodes are
// locked, synced, prepared and launched in parallel. Needs root (network namespaces) and a built CLI.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { down, type TestbedNames, up } from "../test/testbed/index.js";
import { median, mustTime } from "./tools.js";

const NODES = Math.max(2, Number(process.argv[2] ?? 16) || 16);
const ROUNDS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3) || 3);

const BED: TestbedNames = {
  stateDir: "/var/tmp/offload-nodes-bench",
  bridge: "nodes-br0",
  hostPrefix: "offload-n",
  vethPrefix: "veth-nb",
  nftTable: "offload_nodes_bench",
  subnet: "10.202.1",
};

const REPO = new URL("..", import.meta.url).pathname;

/**
 * CPU is what a job across hosts is bound by here (every host's sshd and processes share this machine's
 * cores), and unlike wall time it does not swell when other work shares the machine. So the bench moves
 * itself into a cgroup of its own before the bed comes up: the bed's sshds, the ssh masters, offload,
 * its ssh clients and every process a host starts are counted, and nothing else on the machine is.
 */
class CpuMeter {
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
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

const meter = new CpuMeter();
const info = await up(NODES, BED);
const project = mkdtempSync(join(tmpdir(), "offload-nodes-bench-"));
try {
  mkdirSync(join(project, "src"));
  for (let i = 0; i < 10; i++) writeFileSync(join(project, "src", `f${i}.py`), `x = ${i}\n`);
  const env = { ...process.env, HOME: project, XDG_CONFIG_HOME: join(project, ".config") };
  const run = async (hosts: readonly string[], round: number, trace = false) => {
    const cpuBefore = meter.used();
    const ticksBefore = machineTicks();
    const timed = await mustTime(
      [
        process.execPath,
        join(REPO, "bin", "offload.js"),
        "run",
        "--quiet",
        "--ssh-config",
        info.sshConfig,
        "--host",
        hosts.join(","),
        "--remote-dir",
        `bench-nodes-${round}`,
        "--",
        "true",
      ],
      { cwd: project, env: trace ? { ...env, OFFLOAD_TRACE: "1" } : env, discardStdout: true },
    );
    const ticks = machineTicks();
    const busy = (ticks.busy - ticksBefore.busy) / Math.max(1, ticks.total - ticksBefore.total);
    return { ...timed, cpu: meter.used() - cpuBefore, busy };
  };
  const one: number[] = [];
  const many: number[] = [];
  const cpu = { one: [] as number[], many: [] as number[] };
  const busy = { one: [] as number[], many: [] as number[] };
  // A first round warms each host's master connection and remote dir for both sides.
  for (let round = 0; round <= ROUNDS; round++) {
    const order = round % 2 === 0 ? ["one", "many"] : ["many", "one"];
    for (const side of order) {
      const timed = await run(side === "one" ? info.hosts.slice(0, 1) : info.hosts, round);
      if (round > 0) {
        const key = side === "one" ? "one" : "many";
        (side === "one" ? one : many).push(timed.ms);
        cpu[key].push(timed.cpu);
        busy[key].push(timed.busy);
      }
      // A warning of Node's on the terminal (16 nodes once passed its 10-listener leak warning) is a
      // defect the user would see.
      if (/\(node:\d+\) \w*Warning/.test(timed.stderr))
        throw new Error(`Node warned during a run:\n${timed.stderr}`);
    }
  }
  // NODES_TRACE=1: one more run across all hosts, with OFFLOAD_TRACE's time line (where it went).
  if (process.env.NODES_TRACE === "1")
    process.stdout.write((await run(info.hosts, ROUNDS + 1, true)).stderr);
  const ratio = median(many) / median(one);
  const ms = (values: number[]) => values.map((v) => (v * 1000).toFixed(0)).join(", ");
  const perNode = (median(cpu.many) - median(cpu.one)) / (NODES - 1);
  const pct = (values: number[] = []) => `${(median(values) * 100).toFixed(0)}%`;
  process.stdout.write(
    `${[
      `CPU (bed, offload, ssh, every host process) on 1 host: median ${(median(cpu.one) * 1000).toFixed(0)} ms (${ms(cpu.one)})`,
      `CPU across ${NODES} hosts: median ${(median(cpu.many) * 1000).toFixed(0)} ms (${ms(cpu.many)}); ${(perNode * 1000).toFixed(1)} ms a node added`,
      `machine CPU busy during the run (all ${cpus().length} cores, hosts included): 1 host ${pct(busy.one)}, ${NODES} hosts ${pct(busy.many)}`,
      `run -- true on 1 host:       median ${median(one).toFixed(0)} ms (${one.map((v) => v.toFixed(0)).join(", ")})`,
      `run -- true across ${NODES} hosts: median ${median(many).toFixed(0)} ms (${many.map((v) => v.toFixed(0)).join(", ")})`,
      `ratio ${ratio.toFixed(2)}× (target ≤ 2×): ${ratio <= 2 ? "pass" : "MISSED"}`,
    ].join("\n")}\n`,
  );
} finally {
  rmSync(project, { recursive: true, force: true });
  down(BED);
  meter.close();
}
