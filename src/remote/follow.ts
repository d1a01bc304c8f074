// Builds the script that streams a run's output.log from a byte offset until the run has ended and the
// log is drained: the resume cursor that makes reconnects lose and repeat nothing.

import { quoteShell } from "../shell/quote.js";
import { PROTOCOL_FUNCTIONS } from "./alive.js";
import { MARK, remoteRunDir } from "./layout.js";
import { buildSamplesStreamLines } from "./sampler.js";

/**
 * offload_tail: tail with a 1 MiB output buffer where coreutils' stdbuf is there. Into a pipe (sshd)
 * tail writes stdio's 4 KiB at a time: 50,000 writes, and as many wake-ups of sshd, for 200 MB of log,
 * twice the CPU of a block copy (measured). It still flushes after each read of the file, following
 * or polling, so a line shows as soon as before. stdbuf exits 125 only when it could not start tail.
 */
const TAIL_IN_BLOCKS = `if command -v stdbuf >/dev/null 2>&1; then
  offload_tail() { stdbuf -o1M tail "$@"; offload_ts=$?; [ "$offload_ts" -eq 125 ] || return "$offload_ts"; tail "$@"; }
else
  offload_tail() { tail "$@"; }
fi`;

/**
 * Streams from `$R/output.log` (R, lp and lst set by the caller, PROTOCOL_FUNCTIONS defined) starting at byte `offset`. GNU tail follows with
 * inotify (a line shows up at once) and ends when the watcher sees `exit` or a dead launcher; elsewhere
 * a one-second poll does the same. The `exit` marker on stderr says the stream ended because the run did.
 */
export function buildFollowBody(offset: number, samplesOffset?: number): string {
  // Machine samples ride along on stderr (sampler.ts) when the run records them: the watcher sends
  // them each second, and all that is left once the run has ended, before the log's tail can end.
  const samples = samplesOffset !== undefined;
  const on = (line: string) => (samples ? line : ":");
  return `L="$R/output.log"
off=${offset}
${samples ? buildSamplesStreamLines(samplesOffset) : ""}
${TAIL_IN_BLOCKS}
if [ ! -f "$R/exit" ]; then
  case $(tail --version 2>/dev/null) in *GNU*) gnu=1 ;; *) gnu= ;; esac
  if [ -n "$gnu" ] && command -v timeout >/dev/null 2>&1; then waiter=1; else waiter=; fi
  # With GNU tail, one process a second waits for the launcher to end (tail --pid checks it every 20 ms,
  # every 5 ms in the first second, where a short job ends: 0.4% of a core for that second only, and
  # starts nothing), so the end shows at once and a fast log's host spends no CPU on sleeps; the
  # checks around it still prove the launcher (a zombie or a reused pid only waits out its second).
  # Elsewhere ticks of 20 ms for the first 2 s (a short job ends soon after its launch), then 200 ms:
  # the end of a long run may show 0.2 s late, and an idle follow costs five sleeps a second, not fifty.
  offload_watch() {
    t=0; tick=0.005
    while [ ! -f "$R/exit" ]; do
      offload_launcher_alive || break
      if [ -n "$waiter" ]; then
        timeout 1 tail --pid="$lp" -s $tick -f /dev/null 2>/dev/null
        # 0: the launcher ended; 124: a second passed. Anything else: back to ticks, never a busy loop.
        case $? in 0 | 124) ;; *) waiter= ;; esac
        tick=0.02
        ${on("offload_samples_tick 1000")}
      elif [ $t -lt 100 ]; then t=$((t + 1)); offload_sleep 0.02; ${on("offload_samples_tick 20")}
      else offload_sleep 0.2; ${on("offload_samples_tick 200")}; fi
    done
    ${on("offload_samples_drain")}
  }
  offload_watch & w=$!
  if [ -n "$gnu" ]; then
    offload_tail -c +$((off + 1)) -s 0.02 --pid="$w" -f "$L"
  else
    offload_drain() {
      size=$(wc -c < "$L"); size=$((size + 0))
      if [ "$size" -gt "$off" ]; then tail -c +$((off + 1)) "$L" | head -c $((size - off)); off=$size; fi
    }
    while kill -0 "$w" 2>/dev/null; do offload_drain; sleep 1; done
    offload_drain
  fi
else
  # An ended run's empty log, read from its start (a job that printed nothing), needs no tail: a process
  # start saved on every node of a job across hosts.
  if [ "$off" -gt 0 ] || [ -s "$L" ]; then offload_tail -c +$((off + 1)) "$L"; fi
  ${on("offload_samples_drain")}
fi
code=lost; if [ -f "$R/exit" ]; then read -r code < "$R/exit"; fi
if [ -f "$R/displaced" ]; then by=; read -r by < "$R/displaced"; printf '${MARK.displaced} %s\\n' "$by" >&2; fi
ts=; te=; read -r ts < "$R/started" 2>/dev/null; read -r te < "$R/ended" 2>/dev/null
# A job that failed or vanished may have filled the disk, and so may one whose launcher could not
# write its end stamp (launch.ts): say how much is free.
if [ "$code" != 0 ] || [ -z "$te" ]; then offload_disk_free >&2; fi
printf '${MARK.times} %s %s\\n' "\${ts:--}" "\${te:--}" >&2
printf '${MARK.exit} %s\\n' "\${code:-lost}" >&2
`;
}

/** A reconnect: the same stream, from where this machine's copy of the log ends. */
export function buildFollowScript(
  remoteDir: string,
  runId: string,
  offset: number,
  samplesOffset?: number,
): string {
  return [
    PROTOCOL_FUNCTIONS,
    `cd ${quoteShell(remoteDir)} || exit 1`,
    `R=${quoteShell(remoteRunDir(runId))}`,
    `[ -d "$R" ] || { printf '${MARK.exit} missing\\n' >&2; exit 0; }`,
    // A run whose launch is still under way gets its launcher in a moment; one that never started
    // never will, and following it would wait for an exit that cannot come.
    `[ -f "$R/launcher.pid" ] || [ -f "$R/exit" ] || offload_await_launcher "$R"`,
    // A launcher.pid that names no launcher of this run reads as a dead launcher: the run is lost.
    `offload_read_launcher "$R"`,
    `if [ ! -f "$R/launcher.pid" ] && [ ! -f "$R/exit" ]; then printf '${MARK.exit} missing\\n' >&2; exit 0; fi`,
    `printf '${MARK.following}\\n' >&2`,
    buildFollowBody(offset, samplesOffset),
  ].join("\n");
}
