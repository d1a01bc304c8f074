// `node --import tsx bench/profile-nodes.ts [N]`: where the CPU of a job across N hosts goes, part by
// part, against the same run on one host: every process of the hosts (their sshds and all they start),
// offload's ssh masters, its ssh clients, and offload itself (node). Each part is a cgroup (v1 cpuacct)
// of its own, so the numbers hold on a machine that others load. NODES_DIRS and NODES_CLI (another
// build's bin/offload.js) as in measure-nodes.ts; PROFILE_KEEP=1 leaves the bed up for the next call.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BED, bringUp, runTrueArgv, takeDown } from "./nodes-bed.js";
import { median, mustTime } from "./tools.js";

const NODES = Math.max(2, Number(process.argv[2] ?? 16) || 16);
const ROUNDS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 5) || 5);
const FRESH = process.env.NODES_DIRS === "fresh";
const CLI = process.env.NODES_CLI ?? new URL("../bin/offload.js", import.meta.url).pathname;
const ROOT = join("/sys/fs/cgroup/cpuacct", `offload-nodes-profile-${process.pid}`);
const PARTS = ["hosts", "masters", "clients", "offload"] as const;
type Part = (typeof PARTS)[number];

const usage = (part: Part) => Number(readFileSync(join(ROOT, part, "cpuacct.usage"), "utf8")) / 1e6;
const enter = (part: Part, pid: number | string) =>
  writeFileSync(join(ROOT, part, "cgroup.procs"), `${pid}\n`);

/** Pids of this machine's processes with a TCP connection into the bed: offload's masters. */
function masterPids(): string[] {
  const ss = spawnSync("ss", ["-tnpH", "state", "established", "dst", `${BED.subnet}.0/24`], {
    encoding: "utf8",
  });
  return [...new Set([...ss.stdout.matchAll(/pid=(\d+)/g)].map((m) => m[1] ?? ""))];
}

if (!existsCpuacct()) throw new Error("needs cgroup v1 cpuacct at /sys/fs/cgroup/cpuacct");
const info = await bringUp(NODES);
const scratch = mkdtempSync(join(tmpdir(), "offload-nodes-profile-"));
for (const part of PARTS) mkdirSync(join(ROOT, part), { recursive: true });
try {
  // Every process in each host's namespace, the sshd listeners among them: what they start stays in.
  for (let k = 1; k <= NODES; k++) {
    const pids = spawnSync("ip", ["netns", "pids", `${BED.hostPrefix}${k}`], { encoding: "utf8" });
    for (const pid of pids.stdout.split("\n").filter(Boolean)) enter("hosts", pid);
  }
  // offload's ssh clients enter their own part: a shell in front of ssh, in PATH first, moves itself
  // (its own start, ~1 ms, counts as offload's).
  const wrappers = join(scratch, "bin");
  mkdirSync(wrappers);
  const ssh = spawnSync("sh", ["-c", "command -v ssh"], { encoding: "utf8" }).stdout.trim();
  writeFileSync(
    join(wrappers, "ssh"),
    `#!/bin/sh\necho $$ > ${join(ROOT, "clients", "cgroup.procs")}\nexec ${ssh} "$@"\n`,
  );
  chmodSync(join(wrappers, "ssh"), 0o755);
  const project = join(scratch, "project");
  mkdirSync(join(project, "src"), { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(project, "src", `f${i}.py`), `x = ${i}\n`);
  const env = {
    ...process.env,
    PATH: `${wrappers}:${process.env.PATH ?? ""}`,
    HOME: join(scratch, "home"),
    XDG_CONFIG_HOME: join(scratch, "home", ".config"),
  };
  const run = async (hosts: readonly string[], remoteDir: string) => {
    const before = Object.fromEntries(PARTS.map((p) => [p, usage(p)]));
    await mustTime(
      [
        "sh",
        "-c",
        `echo $$ > ${join(ROOT, "offload", "cgroup.procs")}; exec "$@"`,
        "sh",
        ...runTrueArgv(CLI, info.sshConfig, hosts, remoteDir),
      ],
      { cwd: project, env, discardStdout: true },
    );
    return Object.fromEntries(PARTS.map((p) => [p, usage(p) - (before[p] ?? 0)])) as Record<
      Part,
      number
    >;
  };
  const dir = (side: string, round: number) =>
    FRESH ? `profile-${side}-${round}` : `profile-${side}`;
  const one = info.hosts.slice(0, 1);
  const samples = { one: [] as Record<Part, number>[], many: [] as Record<Part, number>[] };
  // Warm-up: masters up (then moved to their part), remote dirs synced and proven unchanged.
  for (const round of [-2, -1]) {
    await run(one, dir("one", round));
    await run(info.hosts, dir("many", round));
  }
  for (const pid of masterPids()) enter("masters", pid);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (["one", "many"] as const) : (["many", "one"] as const);
    for (const side of order)
      samples[side].push(await run(side === "one" ? one : info.hosts, dir(side, round)));
  }
  const lines = [
    `CPU ms by part, medians of ${ROUNDS} (${FRESH ? "fresh" : "warm"} remote dirs, ${CLI})`,
  ];
  lines.push(
    `${"part".padEnd(10)}${"1 host".padStart(10)}${`${NODES} hosts`.padStart(10)}${"a node added".padStart(14)}`,
  );
  let total = 0;
  for (const part of PARTS) {
    const a = median(samples.one.map((s) => s[part]));
    const b = median(samples.many.map((s) => s[part]));
    total += (b - a) / (NODES - 1);
    lines.push(
      `${part.padEnd(10)}${a.toFixed(1).padStart(10)}${b.toFixed(1).padStart(10)}${((b - a) / (NODES - 1)).toFixed(1).padStart(14)}`,
    );
  }
  lines.push(`${"all".padEnd(30)}${total.toFixed(1).padStart(14)}`);
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
  if (process.env.PROFILE_KEEP !== "1") takeDown();
  // Whatever is left in a part (a master that outlived the bed) goes back to the root cgroup.
  for (const part of PARTS) {
    const procs = readFileSync(join(ROOT, part, "cgroup.procs"), "utf8")
      .split("\n")
      .filter(Boolean);
    for (const pid of procs)
      try {
        writeFileSync("/sys/fs/cgroup/cpuacct/cgroup.procs", `${pid}\n`);
      } catch {
        // gone meanwhile
      }
    try {
      rmdirSync(join(ROOT, part));
    } catch {
      // a process still in it
    }
  }
  try {
    rmdirSync(ROOT);
  } catch {
    // a part still there
  }
}

function existsCpuacct(): boolean {
  try {
    readFileSync("/sys/fs/cgroup/cpuacct/cpuacct.usage");
    return true;
  } catch {
    return false;
  }
}
