// The measures of issue 7, each offload beside its baseline, alternating within one run.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { RunRecord } from "../src/runs/record.js";
import type { BenchContext } from "./context.js";
import { makeTree } from "./context.js";
import { median, mustTime, percentile, run } from "./tools.js";

export interface Result {
  measure: string;
  unit: string;
  offload: number;
  baseline?: number;
  /** offload ÷ baseline for times, offload ÷ baseline throughput for MB/s. */
  ratio?: number;
  target: string;
  pass: boolean;
  note: string;
}

function latestRecord(project: string): RunRecord {
  const runs = join(project, ".offload", "runs");
  const id = readdirSync(runs).sort().at(-1) ?? "";
  return JSON.parse(readFileSync(join(runs, id, "run.json"), "utf8")) as RunRecord;
}

function offloadRun(
  ctx: BenchContext,
  project: string,
  remote: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
) {
  return mustTime(
    [
      ...ctx.offload,
      "run",
      "--quiet",
      "--ssh-config",
      ctx.bed.sshConfig,
      "--host",
      `${ctx.host}/${remote}`,
      ...extra,
      "--",
      "true",
    ],
    { cwd: project, env },
  );
}

function rsyncArgv(
  ctx: BenchContext,
  controlDir: string | undefined,
  source: string,
  dest: string,
): string[] {
  return ["rsync", "-a", "-e", ctx.ssh(controlDir).join(" "), `${source}/`, `${ctx.host}:${dest}/`];
}

function ratioResult(
  measure: string,
  offload: number[],
  baseline: number[],
  limit: number,
  note: string,
): Result {
  const o = median(offload);
  const b = median(baseline);
  const ratio = o / b;
  return {
    measure,
    unit: "ms",
    offload: o,
    baseline: b,
    ratio,
    target: `≤ ${limit}×`,
    pass: ratio <= limit,
    note,
  };
}

export async function measureStartup(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const project = join(ctx.scratch, "small");
  makeTree(project, 10);
  const baseCtl = mkdtempSync(join(ctx.scratch, "ctl-"));
  const remote = "bench-small";
  await offloadRun(ctx, project, remote); // warms offload's master and the remote copy
  await mustTime(rsyncArgv(ctx, baseCtl, project, `bench-small-base`));
  const warm = { offload: [] as number[], baseline: [] as number[] };
  const cold = { offload: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < repeats; i++) {
    warm.offload.push((await offloadRun(ctx, project, remote)).ms);
    const r = await mustTime(rsyncArgv(ctx, baseCtl, project, "bench-small-base"));
    const s = await mustTime([...ctx.ssh(baseCtl), ctx.host, "true"]);
    warm.baseline.push(r.ms + s.ms);

    const fresh = mkdtempSync(join(ctx.scratch, "cold-"));
    cold.offload.push(
      (await offloadRun(ctx, project, remote, [], { ...process.env, OFFLOAD_CONTROL_DIR: fresh }))
        .ms,
    );
    run([
      "ssh",
      "-F",
      ctx.bed.sshConfig,
      "-o",
      `ControlPath=${fresh}/offload-0/%C`,
      "-O",
      "exit",
      ctx.host,
    ]);
    const rc = await mustTime(rsyncArgv(ctx, undefined, project, "bench-small-base"));
    const sc = await mustTime([...ctx.ssh(undefined), ctx.host, "true"]);
    cold.baseline.push(rc.ms + sc.ms);
  }
  return [
    ratioResult(
      "run -- true, warm",
      warm.offload,
      warm.baseline,
      1.5,
      "whole `offload run` (node start included) vs rsync no-op + ssh true over a warm master",
    ),
    ratioResult(
      "run -- true, cold",
      cold.offload,
      cold.baseline,
      1.5,
      "no master yet on either side",
    ),
  ];
}

export async function measureSync(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const project = join(ctx.scratch, "tree");
  makeTree(project, 5000);
  const baseCtl = mkdtempSync(join(ctx.scratch, "ctl-"));
  await offloadRun(ctx, project, "bench-warmup");
  const first = { offload: [] as number[], baseline: [] as number[] };
  const noop = { offload: [] as number[], baseline: [] as number[] };
  const one = { offload: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < repeats; i++) {
    await offloadRun(ctx, project, `bench-tree-${i}`);
    first.offload.push(latestRecord(project).phases.sync ?? Number.NaN);
    first.baseline.push(
      (await mustTime(rsyncArgv(ctx, baseCtl, project, `bench-tree-base-${i}`))).ms,
    );

    await offloadRun(ctx, project, `bench-tree-${i}`);
    noop.offload.push(latestRecord(project).phases.sync ?? Number.NaN);
    noop.baseline.push(
      (await mustTime(rsyncArgv(ctx, baseCtl, project, `bench-tree-base-${i}`))).ms,
    );

    writeFileSync(join(project, "dir7", "file7.py"), `# changed ${i}\n`);
    await offloadRun(ctx, project, `bench-tree-${i}`);
    one.offload.push(latestRecord(project).phases.sync ?? Number.NaN);
    one.baseline.push(
      (await mustTime(rsyncArgv(ctx, baseCtl, project, `bench-tree-base-${i}`))).ms,
    );
  }
  run([...ctx.ssh(baseCtl), ctx.host, "rm -rf bench-tree-* bench-tree-base-* bench-warmup"]);
  const note =
    "offload's sync phase (scan with ignore rules + rsync) vs `rsync -a`, both over a warm master";
  return [
    ratioResult("first sync, 5,000 files", first.offload, first.baseline, 1.1, note),
    ratioResult("no-op sync, 5,000 files", noop.offload, noop.baseline, 1.1, note),
    ratioResult("one file changed, 5,000 files", one.offload, one.baseline, 1.1, note),
  ];
}

export async function measureDownload(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const project = join(ctx.scratch, "dl");
  mkdirSync(project);
  writeFileSync(join(project, "offload.yaml"), "download:\n  - big.bin\n");
  const baseCtl = mkdtempSync(join(ctx.scratch, "ctl-"));
  run([
    ...ctx.ssh(baseCtl),
    ctx.host,
    "mkdir -p bench-dl && head -c 1073741824 /dev/urandom > bench-dl/big.bin",
  ]);
  const mib = 1024;
  const offload: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < repeats; i++) {
    await offloadRun(ctx, project, "bench-dl");
    const record = latestRecord(project);
    offload.push(mib / ((record.phases.download ?? Number.NaN) / 1000));
    rmSync(join(project, ".offload"), { recursive: true, force: true });
    const local = join(ctx.scratch, "big.bin");
    const t = await mustTime([
      "sh",
      "-c",
      `${ctx.ssh(baseCtl).join(" ")} ${ctx.host} cat bench-dl/big.bin > ${local}`,
    ]);
    baseline.push(mib / (t.ms / 1000));
    rmSync(local, { force: true });
  }
  run([...ctx.ssh(baseCtl), ctx.host, "rm -rf bench-dl"]);
  const o = median(offload);
  const b = median(baseline);
  return [
    {
      measure: "1 GiB artifact download",
      unit: "MiB/s",
      offload: o,
      baseline: b,
      ratio: o / b,
      target: "≥ 0.9×",
      pass: o / b >= 0.9,
      note: "offload's download phase (list + fetch) vs `ssh cat file > local`",
    },
  ];
}

/** Lines carry the remote clock at print time; the hosts share this machine's clock. */
export async function measureLatency(ctx: BenchContext): Promise<Result[]> {
  const project = join(ctx.scratch, "latency");
  mkdirSync(project);
  writeFileSync(
    join(project, "tick.sh"),
    `i=0; while [ $i -lt 300 ]; do date +%s%N; i=$((i + 1)); sleep 0.02; done\n`,
  );
  const delays: number[] = [];
  const child = spawn(
    ctx.offload[0] ?? "node",
    [
      ...ctx.offload.slice(1),
      "run",
      "--json",
      "--ssh-config",
      ctx.bed.sshConfig,
      "--host",
      `${ctx.host}/bench-latency`,
      "--",
      "sh",
      "tick.sh",
    ],
    { cwd: project, stdio: ["ignore", "pipe", "inherit"] },
  );
  for await (const line of createInterface({ input: child.stdout })) {
    const received = Date.now();
    const event = JSON.parse(line) as { type: string; line?: string };
    if (event.type === "output" && event.line && /^[0-9]+$/.test(event.line))
      delays.push(received - Number(event.line) / 1e6);
  }
  const p95 = percentile(delays, 95);
  return [
    {
      measure: "log latency (p95), remote write → local event",
      unit: "ms",
      offload: p95,
      target: "< 100 ms",
      pass: p95 < 100,
      note: `p50 ${percentile(delays, 50).toFixed(1)} ms over ${delays.length} lines`,
    },
  ];
}

export async function measureMemory(ctx: BenchContext): Promise<Result[]> {
  const project = join(ctx.scratch, "rss");
  mkdirSync(project);
  const t = await mustTime(
    [
      "/usr/bin/time",
      "-f",
      "%M",
      ...ctx.offload,
      "run",
      "--quiet",
      "--ssh-config",
      ctx.bed.sshConfig,
      "--host",
      `${ctx.host}/bench-rss`,
      "--",
      "sh",
      "-c",
      "yes 'epoch 1 step 123 loss=0.123456 lr=0.001 a moderately long training log line' | head -c 1073741824",
    ],
    { cwd: project },
  );
  const kib = Number(t.stderr.trim().split("\n").at(-1));
  rmSync(join(project, ".offload"), { recursive: true, force: true });
  run([
    ...ctx.ssh(undefined),
    ctx.host,
    "rm -rf bench-rss bench-latency bench-small bench-small-base",
  ]);
  const mb = kib / 1024;
  return [
    {
      measure: "peak RSS streaming a 1 GiB log",
      unit: "MiB",
      offload: mb,
      target: "< 150 MB",
      pass: mb < 143,
      note: `whole run took ${(t.ms / 1000).toFixed(1)} s`,
    },
  ];
}
