// The live log: latency from a remote write to the local event, and offload's memory on a 1 GiB log.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { BenchContext } from "./context.js";
import { latestRecord, offloadArgv } from "./offload-cli.js";
import type { Result } from "./result.js";
import { mustTime, percentile, run } from "./tools.js";

const LINES = 300;

/** Each line carries the remote clock at print time (`date +%s%N`); the hosts share this clock. */
export async function measureLatency(ctx: BenchContext): Promise<Result[]> {
  const project = join(ctx.scratch, "latency");
  mkdirSync(project);
  // Gaps from 10 to 100 ms: bursts and idle spells both, as a training loop prints.
  writeFileSync(
    join(project, "tick.sh"),
    `i=0; while [ $i -lt ${LINES} ]; do date +%s%N; i=$((i + 1)); sleep $(printf '0.%03d' $(( (i % 10) * 10 + 10 ))); done\n`,
  );
  const argv = offloadArgv(ctx, { remote: "bench-latency", command: ["sh", "tick.sh"] });
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
  run([...ctx.ssh(undefined), ctx.host, "rm -rf bench-latency"]);
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
    remote: "bench-rss",
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
  run([...ctx.ssh(undefined), ctx.host, "rm -rf bench-rss"]);
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
