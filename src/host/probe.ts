// The host probe: one POSIX sh script that reports what a remote machine has, and the parser of its reply.
import { quoteRemotePath } from "../shell/quote.js";
import { GPU_QUERY_ARGS, type GpuInfo, parseGpuQuery } from "./gpus.js";

export interface HostFacts {
  /** `uname -s`, e.g. Linux or Darwin; "" where the probe could not tell. */
  os: string;
  kernel: string;
  arch: string;
  hostname: string;
  cpus?: number;
  memTotalBytes?: number;
  /** Free space on the filesystem that holds (or will hold) the remote dir. */
  diskFreeBytes?: number;
  /** The directory measured: the remote dir or, before it exists, its nearest existing parent. */
  diskDir?: string;
  python?: { path: string; version: string };
  /** rsync's version; absent where rsync is not installed. */
  rsync?: string;
  tar: boolean;
  setsid: boolean;
  /** The user's login shell ($SHELL). */
  shell?: string;
  gpus: GpuInfo[];
  /** Set where nvidia-smi exists but failed (driver not loaded, no device): its exit code and message. */
  gpuError?: string;
  /** When the probe ran (ISO 8601): earlier than the run where the facts came from the cache. */
  probedAt?: string;
}

// Each fact is printed on its own and every command's failure is swallowed, so a host that lacks a
// tool still answers everything else; builtins do the parsing so a minimal PATH costs nothing more.
const PROBE_BODY = `nl='
'
kv() { v=$2; v=\${v%%"$nl"*}; printf '%s=%s\\n' "$1" "$v"; }
has() { command -v "$1" >/dev/null 2>&1; }
yesno() { if has "$1"; then kv "$1" yes; else kv "$1" no; fi; }
kv os "$(uname -s 2>/dev/null)"
kv kernel "$(uname -r 2>/dev/null)"
kv arch "$(uname -m 2>/dev/null)"
kv hostname "$(hostname 2>/dev/null || uname -n 2>/dev/null)"
kv cpus "$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null)"
if [ -r /proc/meminfo ]; then
  while read -r k n _; do
    if [ "$k" = MemTotal: ]; then kv mem_total_kb "$n"; break; fi
  done </proc/meminfo
elif has sysctl; then
  kv mem_total_bytes "$(sysctl -n hw.memsize 2>/dev/null)"
fi
p=$D
while [ ! -d "$p" ]; do
  case $p in
    */*) p=\${p%/*}; [ -n "$p" ] || p=/ ;;
    *) p=. ;;
  esac
done
kv disk_dir "$p"
if has df; then
  set -f
  # -P guarantees one line a filesystem; the field before "NN%" is the free space even when a
  # device name has spaces.
  df -Pk "$p" 2>/dev/null | {
    read -r _
    read -r line
    prev=
    for w in $line; do
      case $w in *%) kv disk_free_kb "$prev"; break ;; esac
      prev=$w
    done
  }
  set +f
fi
py=
pyv=
for c in python3 python; do
  if has "$c"; then
    cp=$(command -v "$c")
    [ -n "$py" ] || py=$cp
    # A pyenv shim or a broken install exists but cannot run: try the next name.
    v=$("$cp" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
    if [ -n "$v" ]; then py=$cp; pyv=$v; break; fi
  fi
done
if [ -n "$py" ]; then kv python "$py"; kv python_version "$pyv"; fi
if has rsync; then
  r=$(rsync --version 2>/dev/null)
  kv rsync "\${r:-unknown}"
fi
yesno tar
yesno setsid
kv shell "\${SHELL:-}"
if has nvidia-smi; then
  t=
  # A wedged driver can hang nvidia-smi forever; the probe must still come back.
  if has timeout; then t="timeout 20"; fi
  out=$($t nvidia-smi ${GPU_QUERY_ARGS.join(" ")} 2>&1)
  st=$?
  if [ "$st" -eq 0 ]; then
    printf '%s\\n' "$out" | while IFS= read -r line; do
      [ -z "$line" ] || kv gpu "$line"
    done
  else
    kv gpu_error "exit $st: $out"
  fi
fi
exit 0
`;

/** The probe for a host whose workspace is (or will be) `remoteDir`; a leading `~/` means the remote home. */
export function buildProbeScript(remoteDir: string): string {
  return `D=${quoteRemotePath(remoteDir)}\n${PROBE_BODY}`;
}

/** Reads the probe's `key=value` lines; a missing or garbled line leaves that fact unknown. */
export function parseProbe(output: string): HostFacts {
  const values = new Map<string, string>();
  const gpuLines: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === "gpu") gpuLines.push(value);
    else values.set(key, value);
  }
  const text = (key: string): string => (values.get(key) ?? "").trim();
  const facts: HostFacts = {
    os: text("os"),
    kernel: text("kernel"),
    arch: text("arch"),
    hostname: text("hostname"),
    tar: text("tar") === "yes",
    setsid: text("setsid") === "yes",
    gpus: parseGpuQuery(gpuLines.join("\n")),
  };
  const cpus = readCount(text("cpus"));
  const memKb = readCount(text("mem_total_kb"));
  const memBytes = readCount(text("mem_total_bytes"));
  const diskKb = readCount(text("disk_free_kb"));
  if (cpus !== undefined && cpus > 0) facts.cpus = cpus;
  if (memKb !== undefined) facts.memTotalBytes = memKb * 1024;
  else if (memBytes !== undefined) facts.memTotalBytes = memBytes;
  if (diskKb !== undefined) facts.diskFreeBytes = diskKb * 1024;
  if (values.has("disk_dir")) facts.diskDir = values.get("disk_dir") ?? "";
  if (text("python") !== "")
    facts.python = { path: text("python"), version: text("python_version") };
  if (values.has("rsync")) facts.rsync = readRsyncVersion(text("rsync"));
  if (text("shell") !== "") facts.shell = text("shell");
  if (text("gpu_error") !== "") facts.gpuError = text("gpu_error");
  return facts;
}

function readCount(value: string): number | undefined {
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

// "rsync  version 3.2.7  protocol version 31"; macOS's openrsync words it differently, so keep the
// raw line where the usual shape is missing.
function readRsyncVersion(line: string): string {
  return /^rsync\s+version\s+v?(\d\S*)/.exec(line)?.[1] ?? (line || "unknown");
}
