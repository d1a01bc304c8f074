// Builds the machine sampler: a POSIX sh loop the launcher starts beside the job, which appends one line
// of raw counters (CPU, memory, disk of the remote dir, and nvidia-smi's GPUs where there are any) every
// few seconds to the run's machine.txt, and the launcher ends as soon as the job has ended.
import { quoteShell } from "../shell/quote.js";
import { MARK } from "./layout.js";

/** The samples file in the run's remote dir (and, byte for byte, in the local run folder). */
export const SAMPLES_FILE = "machine.txt";

/** Seconds between samples unless offload.yaml says otherwise. */
export const DEFAULT_SAMPLE_SECONDS = 5;

/** The one nvidia-smi query the sampler runs; `parseSampleLine` reads its four fields in this order. */
export const SAMPLE_GPU_QUERY =
  "nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits";

export interface SamplerOptions {
  /** Seconds between samples (whole seconds, at least 1). */
  everySeconds: number;
  /** Where /proc is read (a recorded copy in tests). */
  procDir?: string;
}

/**
 * The sampler's own script, run as `sh -c SCRIPT offload-sampler RUN_DIR LAUNCHER_PID`. It lives while
 * the launcher does (the launcher ends it after the job; a launcher killed outright is noticed within a
 * sample), reads /proc with builtins only (a sample forks date, df and nvidia-smi, nothing else), and
 * writes each line with one printf, so a reader never sees half a line but at the very end of a file.
 * A TERM ends the sleep too, and waits for it: once the launcher's `wait` returns, nothing is left. The
 * sleep gets a KILL: a TERM that reaches it between its fork and its exec is taken by the shell's own
 * handler there and lost, and the launcher then waited out the whole sleep (5 s, seen on short jobs).
 */
export function buildSamplerScript(options: SamplerOptions): string {
  const every = Math.max(1, Math.round(options.everySeconds));
  const proc = quoteShell(options.procDir ?? "/proc");
  return `M="$1/${SAMPLES_FILE}"; lp=$2; s=
trap 'if [ -n "$s" ]; then kill -KILL "$s" 2>/dev/null; wait "$s"; fi; exit 0' TERM HUP INT
gpu=; command -v nvidia-smi >/dev/null 2>&1 && gpu=1
while kill -0 "$lp" 2>/dev/null; do
  t=$(date +%s%N 2>/dev/null); case $t in *[!0-9]* | "") t=$(date +%s)000000000 ;; esac
  { read -r _ cu cn cs ci cw cq cx cst _; } < ${proc}/stat
  mt=0; ma=0
  while read -r k v _; do case $k in MemTotal:) mt=$v ;; MemAvailable:) ma=$v; break ;; esac; done < ${proc}/meminfo
  d=$(df -Pk . 2>/dev/null | { read -r _; read -r _ dt du da _; echo "$dt $du $da"; })
  g=
  if [ -n "$gpu" ]; then
    g=$(${SAMPLE_GPU_QUERY} 2>/dev/null | while IFS= read -r l; do case $l in [0-9]*) printf '%s;' "$l" ;; esac; done)
  fi
  printf '%s cpu %s %s %s %s %s %s %s %s mem %s %s disk %s gpu %s\\n' "\${t%??????}" "$cu" "$cn" "$cs" "$ci" "$cw" "$cq" "$cx" "\${cst:-0}" "$mt" "$ma" "\${d:-- - -}" "$g" >> "$M"
  sleep ${every} & s=$!; wait "$s"; s=
done
`;
}

/**
 * Launcher lines that start the sampler after the job (`$jp` set): in a session of its own where setsid
 * exists (its pid is then its process group, which the stop below signals whole). `$sp` holds its pid.
 */
export function buildSamplerStartLines(options: SamplerOptions): string[] {
  const script = quoteShell(buildSamplerScript(options));
  return [
    `sp=; if command -v setsid >/dev/null 2>&1; then`,
    `  setsid sh -c ${script} offload-sampler "$R" $$ </dev/null >/dev/null 2>&1 & sp=$!`,
    `else`,
    `  sh -c ${script} offload-sampler "$R" $$ </dev/null >/dev/null 2>&1 & sp=$!`,
    `fi`,
    // In the launcher, whose stderr is the job's log: a full disk's write error must not land there.
    `{ echo "$sp" > "$R/sampler.pid"; } 2>/dev/null`,
  ];
}

/** Launcher lines after the job's `wait`: the sampler (and its sleep) end before the exit is written. */
export function buildSamplerStopLines(): string[] {
  return [
    // `-s TERM`: dash (Debian's sh) reads `kill -TERM -- -PGID` as an illegal number and signals nothing;
    // the sampler alone then got the TERM, which waits on a hung nvidia-smi, and so did the launcher.
    `if [ -n "$sp" ]; then kill -s TERM -- "-$sp" 2>/dev/null || kill -s TERM "$sp" 2>/dev/null; wait "$sp" 2>/dev/null; fi`,
  ];
}

const SAMPLE_MARK = MARK.sample;

/**
 * Follow-script lines (R set) that send machine.txt from byte `offset` on stderr, a
 * `offload-sample <line>` each. Only whole lines travel: a line the sampler is still writing waits for
 * the next read, so this machine's copy stays a byte-exact prefix and its size the offset.
 * `offload_samples_drain` sends what is there now; `offload_samples_tick MS` does so once a second
 * of ticks has passed (the follow's watcher calls it each tick: no process of its own, no inotify).
 */
export function buildSamplesStreamLines(offset: number): string {
  const from = Math.max(0, Math.floor(offset));
  return `S="$R/${SAMPLES_FILE}"; soff=${from}; sk=0
offload_samples_send() {
  c=0; while IFS= read -r l; do printf '${SAMPLE_MARK} %s\\n' "$l" >&2; c=$((c + \${#l} + 1)); done; echo "$c"
}
offload_samples_drain() {
  [ -s "$S" ] || return 0
  n=$(tail -c +$((soff + 1)) "$S" | offload_samples_send); soff=$((soff + \${n:-0}))
}
offload_samples_tick() { sk=$((sk + $1)); if [ $sk -ge 1000 ]; then sk=0; offload_samples_drain; fi; }`;
}
