// The live log: throughput beside `ssh host cat`, latency from a remote write to the local event, and
// offload's memory on a 1 GiB log.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { BenchContext } from "./context.js";
import { openBaselineMaster } from "./context.js";
import { latestRecord, offloadArgv } from "./offload-cli.js";
import type { Result } from "./result.js";
import { Samples } from "./result.js";
import { alternate, median, mustTime, percentile, run } from "./tools.js";

const LINES = 300;
const STREAM_BYTES = 200_000_000;
/**
 * The two logs, each line different (numbers change as a training loop's do), made on the host with
 * awk: digits cycling `0`…`9`, and training-looking lines of 80 bytes (numbers, `=`, words) that no
 * parser claims but that a per-line parser would read through.
 */
const LOGS = {
  2: `yes "$(printf '0\\n1\\n2\\n3\\n4\\n5\\n6\\n7\\n8\\n9')" | head -c ${STREAM_BYTES}`,
  80: `awk 'BEGIN { for (i = 0; i < ${STREAM_BYTES / 80}; i++) printf "%-79s\\n", sprintf("epoch %03d step %07d loss=%8.6f lr=%8.6f training log line", i / 25000, i, 1 / (1 + i / 1000), 0.001) }'`,
} as const;

/** Reads the peak RSS (`%M`, KiB) that `/usr/bin/time -f %M` printed last on stderr, in MB. */
function peakMb(stderr: string): number {
  return (Number(stderr.trim().split("\n").at(-1)) * 1024) / 1e6;
}

/**
 * A job that prints 200 MB as fast as it can (`cat` of a file made before the rounds) streamed by
 * offload, beside `ssh host cat` of the same file: both write to /dev/null and read the same page cache.
 * offload's time is its launch and run phases: from asking for the launch to the log's last byte here.
 * A third command, the floor, is what any tool that keeps the log on both sides pays at least: `ssh
 * host 'cat FILE | tee OUT' > local file`, the same two writes of 200 MB that offload's job and ssh
 * master make (output.log there and here). On a VM whose host takes back freed memory (virtio-balloon
 * free page reporting), a write into fresh page cache pays the first touch of each page: 0.3-0.7 CPU s
 * per 200 MB at each end (0.08 s right after as much was freed), which `ssh cat > /dev/null` never pays.
 */
async function measureLineSize(
  ctx: BenchContext,
  repeats: number,
  bytes: keyof typeof LOGS,
): Promise<Result> {
  // Its own name, made unique by the pid (ctx.remote's are too): another bench never removes it.
  const remote = `stream-${process.pid}-${bytes}`;
  const project = join(ctx.scratch, remote);
  mkdirSync(project);
  const base = openBaselineMaster(ctx);
  const ssh = ctx.ssh(base.dir);
  const file = `/dev/shm/${remote}.txt`;
  try {
    return await compareStreams(ctx, repeats, bytes, { project, remote, file, ssh });
  } finally {
    run([...ssh, ctx.host, `rm -rf ${remote} ${file} ${file}.copy`]);
    base.close();
  }
}

async function compareStreams(
  ctx: BenchContext,
  repeats: number,
  bytes: number,
  where: { project: string; remote: string; file: string; ssh: string[] },
): Promise<Result> {
  const { project, remote, file, ssh } = where;
  run([...ssh, ctx.host, `${LOGS[bytes as keyof typeof LOGS]} > ${file}`]);
  const size = Number(run([...ssh, ctx.host, `wc -c < ${file}`]).trim());
  if (size !== STREAM_BYTES) throw new Error(`${file} has ${size} bytes, not ${STREAM_BYTES}`);
  const argv = offloadArgv(ctx, { remote, command: ["cat", file] });
  const mb = STREAM_BYTES / 1e6;
  const s = new Samples();
  const copy = `${file}.copy`;
  // Outside the project, which offload syncs.
  const localCopy = join(ctx.scratch, `${remote}-floor.log`);
  const floor = ["sh", "-c", `"$@" > ${localCopy}`, "sh", ...ssh, ctx.host];
  const floorScript = `cat ${file} | tee ${copy}; rm -f ${copy}`;
  // One round first, unmeasured: the remote dir's first sync and a cold page cache are not streaming.
  for (let i = -1; i < repeats; i++) {
    const measureFloor = async () => {
      const t = await mustTime([...floor, floorScript]);
      rmSync(localCopy, { force: true });
      if (i >= 0) s.add("floor (MB/s)", mb / (t.ms / 1000));
    };
    // The floor goes first, between or last in turn: none of the three always follows another's frees.
    if (i % 3 === 0) await measureFloor();
    await alternate(
      i + 1,
      async () => {
        const t = await mustTime(["/usr/bin/time", "-f", "%M", ...argv], {
          cwd: project,
          env: ctx.env,
          discardStdout: true,
        });
        const record = latestRecord(project);
        rmSync(join(project, ".offload"), { recursive: true, force: true });
        if (record.logBytes !== STREAM_BYTES)
          throw new Error(`offload streamed ${record.logBytes} of ${STREAM_BYTES} bytes`);
        if (i < 0) return;
        const ms = (record.phases.launch ?? 0) + (record.phases.run ?? Number.NaN);
        s.add("offload", mb / (ms / 1000));
        s.add("peak RSS (MB)", peakMb(t.stderr));
        s.add("wall (ms)", t.ms);
      },
      async () => {
        const t = await mustTime([...ssh, ctx.host, `cat ${file}`], { discardStdout: true });
        if (i >= 0) s.add("baseline", mb / (t.ms / 1000));
        if (i % 3 === 1) await measureFloor();
      },
    );
    if (i % 3 !== 0 && i % 3 !== 1) await measureFloor();
  }
  const o = median(s.get("offload"));
  const b = median(s.get("baseline"));
  const rss = median(s.get("peak RSS (MB)"));
  const f = median(s.get("floor (MB/s)"));
  return {
    measure: `log stream, ${bytes}-byte lines`,
    unit: "MB/s",
    offload: o,
    baseline: b,
    ratio: o / b,
    target: "≥ 0.9×, RSS < 150 MB",
    pass: o / b >= 0.9 && rss < 150,
    what: {
      offload: `200 MB of ${bytes}-byte lines ÷ (launch + run phases) of \`offload run -- cat FILE\`, stdout to /dev/null; peak RSS by \`/usr/bin/time -f %M\``,
      baseline: "200 MB ÷ wall time of `ssh host cat FILE > /dev/null` over a warm master",
    },
    details: {
      ...s.medians(["peak RSS (MB)", "wall (ms)", "floor (MB/s)"]),
      "÷ floor": Math.round((o / f) * 100) / 100,
    },
    samples: { offload: s.get("offload"), baseline: s.get("baseline") },
  };
}

/** 200 MB of 2-byte lines (the per-line cost at its worst) and of 80-byte training-like lines. */
export async function measureThroughput(ctx: BenchContext, repeats: number): Promise<Result[]> {
  return [await measureLineSize(ctx, repeats, 2), await measureLineSize(ctx, repeats, 80)];
}

/** Each line carries the remote clock at print time (`date +%s%N`); the hosts share this clock. */
export async function measureLatency(ctx: BenchContext): Promise<Result[]> {
  const project = join(ctx.scratch, "latency");
  mkdirSync(project);
  // Gaps from 10 to 100 ms: bursts and idle spells both, as a training loop prints.
  writeFileSync(
    join(project, "tick.sh"),
    `i=0; while [ $i -lt ${LINES} ]; do date +%s%N; i=$((i + 1)); sleep $(printf '0.%03d' $(( (i % 10) * 10 + 10 ))); done\n`,
  );
  const argv = offloadArgv(ctx, { remote: ctx.remote("latency"), command: ["sh", "tick.sh"] });
  argv.splice(argv.indexOf("--quiet"), 1, "--json");
  const child = spawn(argv[0] ?? "node", argv.slice(1), {
    cwd: project,
    env: ctx.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const delays: number[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    const received = Date.now();
    const event = JSON.parse(line) as { type: string; line?: string };
    if (event.type === "output" && event.line && /^[0-9]+$/.test(event.line))
      delays.push(received - Number(event.line) / 1e6);
  }
  run([...ctx.ssh(undefined), ctx.host, `rm -rf ${ctx.remote("latency")}`]);
  const p95 = percentile(delays, 95);
  if (delays.length !== LINES) throw new Error(`latency: ${delays.length} of ${LINES} lines seen`);
  return [
    {
      measure: "log latency p95",
      unit: "ms",
      offload: p95,
      target: "< 100 ms",
      pass: p95 < 100,
      what: {
        offload: `remote \`date +%s%N\` → the line's \`output\` event read from \`run --json\`, ${LINES} lines 10–100 ms apart`,
      },
      details: {
        p50: percentile(delays, 50),
        p99: percentile(delays, 99),
        max: Math.max(...delays),
      },
      samples: { offload: delays },
    },
  ];
}

export async function measureMemory(ctx: BenchContext): Promise<Result[]> {
  const project = join(ctx.scratch, "rss");
  mkdirSync(project);
  const line = "epoch 1 step 123 loss=0.123456 lr=0.001 a moderately long training log line";
  const argv = offloadArgv(ctx, {
    remote: ctx.remote("rss"),
    command: ["sh", "-c", `yes '${line}' | head -c 1073741824`],
  });
  const t = await mustTime(["/usr/bin/time", "-f", "%M", ...argv], {
    cwd: project,
    env: ctx.env,
    discardStdout: true,
  });
  const kib = Number(t.stderr.trim().split("\n").at(-1));
  const record = latestRecord(project);
  rmSync(join(project, ".offload"), { recursive: true, force: true });
  run([...ctx.ssh(undefined), ctx.host, `rm -rf ${ctx.remote("rss")}`]);
  const mb = (kib * 1024) / 1e6;
  return [
    {
      measure: "peak RSS, 1 GiB log",
      unit: "MB",
      offload: mb,
      target: "< 150 MB",
      pass: mb < 150,
      what: {
        offload:
          "`/usr/bin/time -f %M` of `offload run` (stdout to /dev/null) while a job prints 1 GiB at full speed: the largest of node and its ssh children",
      },
      details: {
        "wall (ms)": Math.round(t.ms),
        "run phase (ms)": record.phases.run ?? Number.NaN,
        "log MiB/s": Math.round((1024 / (t.ms / 1000)) * 10) / 10,
        "log bytes": record.logBytes,
      },
      samples: { offload: [mb] },
    },
  ];
}
