// `node --import tsx bench/measure-nodes.ts [N]`: a job across N hosts against the same run on one host,
// and beside them the bare tools doing what a node needs (the floor this machine allows), alternating
// round by round on a bed of its own (its own bridge and /24, never the shared test bed's hosts), taken
// down at the end. Issue 15's target: launch on 16 hosts ≤ 2× one host, as the nodes are locked,
// synced, prepared and launched in parallel. Needs root (network namespaces) and a built CLI.
//
// NODES_DIRS=warm (default): every side runs in a remote dir of its own, the same each round, unchanged
// since the warm-up (offload proves it so and syncs nothing: a job run again). NODES_DIRS=fresh: a new
// remote dir each run (a first sync everywhere). NODES_COMPARE=<path of another build's
// bin/offload.js> adds that build's two sides to every round: before and after under the same load.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exitMaster, sshArgv } from "./context.js";
import { CpuMeter, machineTicks } from "./cpu-meter.js";
import { bringUp, runTrueArgv, takeDown } from "./nodes-bed.js";
import { reportNodes, type Sample } from "./nodes-report.js";
import { mustTime } from "./tools.js";

const NODES = Math.max(2, Number(process.argv[2] ?? 16) || 16);
const ROUNDS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3) || 3);
const FRESH = process.env.NODES_DIRS === "fresh";
const COMPARE = process.env.NODES_COMPARE;

const REPO = new URL("..", import.meta.url).pathname;

/** Wall time, the cgroup's CPU and the machine's busy share of `work`. */
async function measure(work: () => Promise<unknown>): Promise<Sample> {
  const cpuBefore = meter.used();
  const ticksBefore = machineTicks();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const ticks = machineTicks();
  const busy = (ticks.busy - ticksBefore.busy) / Math.max(1, ticks.total - ticksBefore.total);
  return { ms, cpu: meter.used() - cpuBefore, busy };
}

const meter = new CpuMeter();
// A bed that never came up leaves no cgroup behind either.
const info = await bringUp(NODES).catch((error: unknown) => {
  meter.close();
  throw error;
});
const scratch = mkdtempSync(join(tmpdir(), "offload-nodes-bench-"));
const project = join(scratch, "project");
// The bare tools' masters, one a host like offload's, in a control dir of their own.
const bareControl = join(scratch, "bare-ctl");
try {
  mkdirSync(join(project, "src"), { recursive: true });
  mkdirSync(bareControl, { mode: 0o700 });
  for (let i = 0; i < 10; i++) writeFileSync(join(project, "src", `f${i}.py`), `x = ${i}\n`);
  // HOME outside the project: Node's code cache for the CLI (~1 MB, written under ~/.cache by the first
  // run) would otherwise be part of the workspace, and every first sync would carry it to every host.
  const env = {
    ...process.env,
    HOME: join(scratch, "home"),
    XDG_CONFIG_HOME: join(scratch, "home", ".config"),
  };
  let stderr = "";
  const dir = (side: string, round: number) => (FRESH ? `nodes-${side}-${round}` : `nodes-${side}`);
  const offload =
    (cli: string) =>
    async (hosts: readonly string[], remoteDir: string, trace = false) => {
      const timed = await mustTime(runTrueArgv(cli, info.sshConfig, hosts, remoteDir), {
        cwd: project,
        env: trace ? { ...env, OFFLOAD_TRACE: "1" } : env,
        discardStdout: true,
      });
      stderr = timed.stderr;
    };
  // The floor: what a node needs done, in the bare tools, on every host at once: the project into the
  // remote dir (a first copy or a no-op, as offload's sync), then the command run there.
  const ssh = sshArgv(info.sshConfig, bareControl);
  const bare = (hosts: readonly string[], remoteDir: string) =>
    Promise.all(
      hosts.map(async (host) => {
        await mustTime([
          "rsync",
          "-a",
          "-e",
          ssh.join(" "),
          `${project}/src`,
          `${host}:${remoteDir}/`,
        ]);
        await mustTime([...ssh, host, `cd ${remoteDir} && true`]);
      }),
    );
  const one = info.hosts.slice(0, 1);
  const tool = offload(join(REPO, "bin", "offload.js"));
  const sides: Record<string, (remoteDir: string) => Promise<unknown>> = {
    one: (d) => tool(one, d),
    many: (d) => tool(info.hosts, d),
    bareOne: (d) => bare(one, d),
    bareMany: (d) => bare(info.hosts, d),
  };
  if (COMPARE !== undefined) {
    const before = offload(COMPARE);
    sides.compareOne = (d) => before(one, d);
    sides.compareMany = (d) => before(info.hosts, d);
  }
  const names = Object.keys(sides);
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Round 0 warms each host's masters and every side's remote dir; in warm dirs a second untimed run
  // goes first (the run after a first sync syncs once more: its files were written after its stamp).
  for (let round = FRESH ? 0 : -1; round <= ROUNDS; round++) {
    // Each round starts with the next side, so none always runs first or right after another.
    for (let k = 0; k < names.length; k++) {
      const side = names[(Math.max(0, round) + k) % names.length] ?? "";
      stderr = "";
      const sample = await measure(() => sides[side]?.(dir(side, round)) ?? Promise.resolve());
      if (round > 0) samples[side]?.push(sample);
      // A warning of Node's on the terminal (16 nodes once passed its 10-listener leak warning) is a
      // defect the user would see.
      if (/\(node:\d+\) \w*Warning/.test(stderr))
        throw new Error(`Node warned during a run:\n${stderr}`);
    }
  }
  // NODES_TRACE=1: one more run across all hosts, with OFFLOAD_TRACE's time line (where it went).
  if (process.env.NODES_TRACE === "1") {
    await tool(info.hosts, FRESH ? "nodes-trace" : dir("many", 0), true);
    process.stdout.write(stderr);
  }
  process.stdout.write(`${reportNodes(samples, NODES, FRESH ? "fresh" : "warm")}\n`);
} finally {
  for (const host of info.hosts) exitMaster(info.sshConfig, host, bareControl);
  rmSync(scratch, { recursive: true, force: true });
  takeDown();
  meter.close();
}
