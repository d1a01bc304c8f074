// `node --import tsx bench/measure-nodes.ts [N]`: a job across N hosts against the same run on one host,
// alternating round by round on a bed of its own (its own bridge and /24, never the shared test bed's
// hosts), taken down at the end. Issue 15's target: launch on 16 hosts ≤ 2× one host, as the nodes are
// locked, synced, prepared and launched in parallel. Needs root (network namespaces) and a built CLI.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** Busy and total jiffies of the whole machine (/proc/stat): the bed's hosts share its CPUs with offload. */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).slice(1);
  const values = fields.map(Number).filter((v) => Number.isFinite(v));
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

const REPO = new URL("..", import.meta.url).pathname;
const info = await up(NODES, BED);
const project = mkdtempSync(join(tmpdir(), "offload-nodes-bench-"));
try {
  mkdirSync(join(project, "src"));
  for (let i = 0; i < 10; i++) writeFileSync(join(project, "src", `f${i}.py`), `x = ${i}\n`);
  const env = { ...process.env, HOME: project, XDG_CONFIG_HOME: join(project, ".config") };
  const run = (hosts: readonly string[], round: number, trace = false) =>
    mustTime(
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
  const one: number[] = [];
  const many: number[] = [];
  const busy: Record<string, number[]> = { one: [], many: [] };
  // A first round warms each host's master connection and remote dir for both sides.
  for (let round = 0; round <= ROUNDS; round++) {
    const order = round % 2 === 0 ? ["one", "many"] : ["many", "one"];
    for (const side of order) {
      const before = machineTicks();
      const timed = await run(side === "one" ? info.hosts.slice(0, 1) : info.hosts, round);
      const after = machineTicks();
      if (round > 0) {
        (side === "one" ? one : many).push(timed.ms);
        busy[side]?.push((after.busy - before.busy) / Math.max(1, after.total - before.total));
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
  const pct = (values: number[] = []) => `${(median(values) * 100).toFixed(0)}%`;
  const ratio = median(many) / median(one);
  process.stdout.write(
    `${[
      `run -- true on 1 host:       median ${median(one).toFixed(0)} ms (${one.map((v) => v.toFixed(0)).join(", ")})`,
      `run -- true across ${NODES} hosts: median ${median(many).toFixed(0)} ms (${many.map((v) => v.toFixed(0)).join(", ")})`,
      `machine CPU busy during the run (all ${cpus().length} cores, hosts included): 1 host ${pct(busy.one)}, ${NODES} hosts ${pct(busy.many)}`,
      `ratio ${ratio.toFixed(2)}× (target ≤ 2×): ${ratio <= 2 ? "pass" : "MISSED"}`,
    ].join("\n")}\n`,
  );
} finally {
  rmSync(project, { recursive: true, force: true });
  down(BED);
}
