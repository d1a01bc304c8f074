// What the machine sampler costs the host: the real sampler script (src/remote/sampler.ts) run on a
// test-bed host beside a job that keeps one core busy, each in its own shell whose `times` builtin
// sums the CPU of everything it started; both scaled to CPU seconds per hour.

import { buildSamplerScript, DEFAULT_SAMPLE_SECONDS } from "../src/remote/sampler.js";
import { quoteShell } from "../src/shell/quote.js";
import type { BenchContext } from "./context.js";
import type { Result } from "./result.js";
import { Samples } from "./result.js";
import { median, run } from "./tools.js";

/** Seconds each round lets the sampler run (a sample every second: many samples, a short round). */
const ROUND_SECONDS = 20;
const EVERY = 1;

/**
 * One round on the host: the sampler and a busy-loop job side by side for ROUND_SECONDS, each ended
 * by TERM and waited for, then the children's CPU (user + system) of each shell, in seconds.
 */
function roundScript(): string {
  const sampler = quoteShell(buildSamplerScript({ everySeconds: EVERY }));
  // Not in a pipeline: a pipeline's `times` would run in a fresh process, which has no children.
  const cpu = (name: string) =>
    `times > "$d/${name}"; { read -r _; read -r u s; } < "$d/${name}"; echo "$u $s"`;
  return [
    `d=$(mktemp -d); trap 'rm -rf "$d"' EXIT`,
    // The sampler's shell: its "launcher" is this shell, alive for the whole round.
    `( sh -c ${sampler} offload-sampler "$d" $$ & sp=$!; sleep ${ROUND_SECONDS}; kill -TERM "$sp"; wait "$sp"; printf 'sampler '; ${cpu("sampler.times")} ) &`,
    `a=$!`,
    `( sh -c 'while :; do :; done' & jp=$!; sleep ${ROUND_SECONDS}; kill -KILL "$jp"; wait "$jp"; printf 'job '; ${cpu("job.times")} ) &`,
    `b=$!; wait $a $b`,
    `printf 'samples %s\\n' "$(wc -l < "$d/machine.txt")"`,
  ].join("\n");
}

/** `1m2.500s` (the shell's `times` format) in seconds. */
function readTimes(text: string): number {
  return text
    .trim()
    .split(/\s+/)
    .reduce((sum, word) => {
      const m = /^([0-9]+)m([0-9.]+)s$/.exec(word);
      return sum + (m ? Number(m[1]) * 60 + Number(m[2]) : 0);
    }, 0);
}

export async function measureSampler(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const ssh = ctx.ssh(undefined);
  const s = new Samples();
  for (let i = 0; i < repeats; i++) {
    const out = run([...ssh, ctx.host, roundScript()]);
    const line = (name: string) => out.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
    const samples = Number(line("samples").split(" ")[1]);
    const sampler = readTimes(line("sampler").slice("sampler ".length));
    const job = readTimes(line("job").slice("job ".length));
    if (!(samples > 0)) throw new Error(`the sampler wrote no sample: ${out}`);
    // Per sample, then per hour at the default interval.
    s.add("sampler", (sampler / samples) * (3600 / DEFAULT_SAMPLE_SECONDS));
    s.add("job", job * (3600 / ROUND_SECONDS));
    s.add("ms per sample", (sampler / samples) * 1000);
  }
  const o = median(s.get("sampler"));
  const b = median(s.get("job"));
  return [
    {
      measure: `machine sampler CPU (every ${DEFAULT_SAMPLE_SECONDS} s)`,
      unit: "CPU s/h",
      offload: o,
      baseline: b,
      ratio: o / b,
      target: "≤ 0.5% of a core",
      pass: o / 3600 <= 0.005,
      what: {
        offload: `the sampler's CPU (its own and its date/df children's, by \`times\`) per sample over ${ROUND_SECONDS} s at 1 s, × ${3600 / DEFAULT_SAMPLE_SECONDS} samples an hour`,
        baseline: "a job that keeps one core busy, run beside it: its CPU per hour",
      },
      details: s.medians(["ms per sample"]),
      samples: { offload: s.get("sampler"), baseline: s.get("job") },
    },
  ];
}
