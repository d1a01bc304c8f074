// Where the CPU of a fast log goes: `node --import tsx bench/profile-stream.ts [2|80]` streams 200 MB
// with `offload run -- cat FILE`, with `ssh host cat FILE > /dev/null` (the bench's baseline) and with
// `ssh host 'cat FILE | tee OUT' > local file` (the floor: any tool that keeps the log on both sides, as
// offload does, writes it twice), and prints the CPU seconds of each part: offload (node and the ssh
// clients it waited for), the local ssh master (user and system), and the host's sshd session with what
// it reaped (the remote reader: tail or cat, and the shell). offload's job reports its own CPU (`times`),
// its write of output.log, which the launcher's session reaps: `host job` of `host sshd+reaped`.
// PROFILE_NODE_ARGS adds node flags to offload (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). Needs
// root, as the bench does.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { offloadControlPath, openBaselineMaster, openContext } from "./context.js";
import { latestRecord, offloadArgv } from "./offload-cli.js";
import { median, mustTime, run } from "./tools.js";

const BYTES = 200_000_000;
/** The pause before each command (PROFILE_SETTLE_S): the memory freed by the one before is taken back. */
const SETTLE_MS = Number(process.env.PROFILE_SETTLE_S ?? 3) * 1000;
const TICK = 100;
const LOGS: Record<string, string> = {
  2: `yes "$(printf '0\\n1\\n2\\n3\\n4\\n5\\n6\\n7\\n8\\n9')" | head -c ${BYTES}`,
  80: `awk 'BEGIN { for (i = 0; i < ${BYTES / 80}; i++) printf "%-79s\\n", sprintf("epoch %03d step %07d loss=%8.6f lr=%8.6f training log line", i / 25000, i, 1 / (1 + i / 1000), 0.001) }'`,
};

/** utime+cutime and stime+cstime of a live process, in seconds; undefined once it is gone. */
function cpuSplitOf(pid: number): { user: number; sys: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    const [ut = 0, st = 0, cut = 0, cst = 0] = f.slice(11, 15);
    return { user: (ut + cut) / TICK, sys: (st + cst) / TICK };
  } catch {
    return undefined;
  }
}

/** utime+stime+cutime+cstime of a live process, in seconds; undefined once it is gone. */
function cpuOf(pid: number): number | undefined {
  const cpu = cpuSplitOf(pid);
  return cpu && cpu.user + cpu.sys;
}

/** The children's user and system seconds from what sh's `times` printed (its second line). */
function childTimes(text: string): number {
  const line = text.trim().split("\n").at(-1) ?? "";
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
    0,
  );
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim().slice(0, 40);
  } catch {
    return "?";
  }
}

/** The CPU of every process of the host's namespace (the sshd sessions, above all). */
function snapshotHost(namespace: string): Map<number, number> {
  const pids = run(["ip", "netns", "pids", namespace]).split("\n").filter(Boolean).map(Number);
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const c = cpuOf(pid);
    if (c !== undefined) cpu.set(pid, c);
  }
  return cpu;
}

/** The pid of the master behind `controlPath` (ssh's %C tokens allowed). */
function masterPid(sshConfig: string, host: string, controlPath: string): number {
  const r = spawnSync(
    "ssh",
    ["-F", sshConfig, "-o", `ControlPath=${controlPath}`, "-O", "check", host],
    {
      encoding: "utf8",
    },
  );
  const pid = /pid=(\d+)/.exec(r.stderr)?.[1];
  if (pid === undefined) throw new Error(`no master at ${controlPath}: ${r.stderr}`);
  return Number(pid);
}

/** Runs `measure` and returns its `/usr/bin/time` CPU and the deltas of the master and the host. */
async function measureCpu(
  namespace: string,
  master: () => number,
  measure: (
    time: string[],
  ) => Promise<{ stderr: string; phases?: Record<string, number>; job?: number }>,
): Promise<Record<string, number>> {
  const before = snapshotHost(namespace);
  const m = master();
  const mBefore = cpuSplitOf(m) ?? { user: 0, sys: 0 };
  const { stderr, phases = {}, job } = await measure(["/usr/bin/time", "-f", "%e %U %S"]);
  const mAfter = cpuSplitOf(m) ?? { user: 0, sys: 0 };
  const after = snapshotHost(namespace);
  const [wall = 0, user = 0, sys = 0] =
    stderr.trim().split("\n").at(-1)?.split(" ").map(Number) ?? [];
  let sshd = 0;
  const top: string[] = [];
  for (const [pid, c] of after) {
    const d = c - (before.get(pid) ?? c);
    if (d <= 0) continue;
    top.push(`${commOf(pid)}=${d.toFixed(2)}`);
    // The listener's own figure grows with every session it reaps, ours or another test's: not ours.
    if (commOf(pid).startsWith("sshd:")) sshd += d;
  }
  process.stderr.write(`  host: ${top.join(", ")}\n`);
  const timed = Object.fromEntries(
    Object.entries(phases).map(([k, v]) => [`${k} (wall)`, v / 1000]),
  );
  return {
    wall,
    ...timed,
    "local cmd": user + sys,
    "local master": mAfter.user + mAfter.sys - mBefore.user - mBefore.sys,
    "(master sys)": mAfter.sys - mBefore.sys,
    "host sshd+reaped": sshd,
    ...(job === undefined ? {} : { "(host job)": job }),
  };
}

const sizes = process.argv.slice(2).filter((a) => a in LOGS);
const rounds = Number(process.env.BENCH_REPEATS ?? 3) || 3;
const ctx = await openContext();
const base = openBaselineMaster(ctx);
const namespace = `offload-${ctx.host.replace(/^offload-/, "")}`;
try {
  for (const size of sizes.length > 0 ? sizes : ["2", "80"]) {
    const remote = ctx.remote(`pstream-${size}`);
    const file = `/dev/shm/${remote}.txt`;
    const project = join(ctx.scratch, remote);
    mkdirSync(project);
    run([...ctx.ssh(base.dir), ctx.host, `${LOGS[size]} > ${file}`]);
    const nodeArgs = process.env.PROFILE_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
    // The job says its own CPU (cat's write of output.log) in a file beside the log: not in the log.
    const times = `${file}.times`;
    const job = `cat ${file}; times > ${times}`;
    const [node = "", ...rest] = offloadArgv(ctx, { remote, command: [job] });
    const argv = [node, ...nodeArgs, ...rest];
    // Unmeasured: the first sync and the master.
    await mustTime(argv, { cwd: project, env: ctx.env, discardStdout: true });
    const samples: Record<string, Record<string, number[]>> = {
      offload: {},
      baseline: {},
      floor: {},
    };
    const localCopy = join(ctx.scratch, `${remote}.log`);
    const add = (who: string, values: Record<string, number>) => {
      const mine = samples[who] ?? {};
      samples[who] = mine;
      for (const [k, v] of Object.entries(values)) mine[k] = [...(mine[k] ?? []), v];
    };
    for (let i = 0; i < rounds; i++) {
      // offload names its socket `m-<key>` (transport/ssh-args.ts): the one socket of its dir here.
      const offMaster = () => {
        const dir = offloadControlPath(ctx.controlDir);
        const socket = readdirSync(dir).find((name) => name.startsWith("m-")) ?? "none";
        return masterPid(ctx.bed.sshConfig, ctx.host, join(dir, socket));
      };
      const offload = async () =>
        add(
          "offload",
          await measureCpu(namespace, offMaster, async (time) => {
            const t = await mustTime([...time, ...argv], {
              cwd: project,
              env: ctx.env,
              discardStdout: true,
            });
            const record = latestRecord(project);
            rmSync(join(project, ".offload"), { recursive: true, force: true });
            if (record.logBytes !== BYTES) throw new Error(`streamed ${record.logBytes}`);
            const { launch = 0, run: ran = 0 } = record.phases;
            const jobCpu = childTimes(run([...ctx.ssh(base.dir), ctx.host, `cat ${times}`]));
            return { stderr: t.stderr, phases: { launch, run: ran }, job: jobCpu };
          }),
        );
      const baseline = async () =>
        add(
          "baseline",
          await measureCpu(
            namespace,
            () => masterPid(ctx.bed.sshConfig, ctx.host, `${base.dir}/%C`),
            async (time) => {
              const argv = [...time, ...ctx.ssh(base.dir), ctx.host, `cat ${file}`];
              return { stderr: (await mustTime(argv, { discardStdout: true })).stderr };
            },
          ),
        );
      const floor = async () =>
        add(
          "floor",
          await measureCpu(
            namespace,
            () => masterPid(ctx.bed.sshConfig, ctx.host, `${base.dir}/%C`),
            async (time) => {
              const copy = `${file}.copy`;
              const ssh = [
                ...ctx.ssh(base.dir),
                ctx.host,
                `cat ${file} | tee ${copy}; rm -f ${copy}`,
              ];
              const argv = ["sh", "-c", `"$@" > ${localCopy}`, "sh", ...time, ...ssh];
              const t = await mustTime(argv);
              rmSync(localCopy, { force: true });
              return { stderr: t.stderr };
            },
          ),
        );
      // Each in turn goes first, and each waits out the settle time: a write into page cache that was
      // freed a moment ago is several times cheaper on a VM with free page reporting than one into memory the
      // host took back (the floor right after offload's freed log: master 0.17-0.31 s, 6 s later 0.53-0.65).
      const order = [offload, baseline, floor];
      for (const measure of [...order.slice(i % 3), ...order.slice(0, i % 3)]) {
        await sleep(SETTLE_MS);
        await measure();
      }
    }
    process.stdout.write(`${size}-byte lines, medians of ${rounds} (CPU s per 200 MB):\n`);
    for (const [who, values] of Object.entries(samples))
      process.stdout.write(
        `  ${who.padEnd(9)} ${Object.entries(values)
          .map(([k, v]) => `${k} ${median(v).toFixed(2)}`)
          .join(", ")}\n`,
      );
    run([...ctx.ssh(base.dir), ctx.host, `rm -f ${file} ${times}`]);
  }
} finally {
  base.close();
  ctx.cleanup();
}
