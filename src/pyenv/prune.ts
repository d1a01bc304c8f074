// Builds the script that removes cached Python envs no run has used for a while, and reads its report.
// Envs are reused by hash for as long as they exist, so without this a GPU box's disk fills with the
// envs of every requirements file a project ever had.
import { DEFAULT_ENV_ROOT, ENV_READY_FILE, quoteEnvRoot } from "./venv.js";

export interface PruneOptions {
  /** Where envs live; `~/.offload/envs` by default. */
  envRoot?: string;
  /** Remove envs whose last use (the ready file's time, renewed by every run that reuses it) is older. */
  olderThanDays: number;
  /** Report what would go, remove nothing. */
  dryRun: boolean;
}

export interface PrunedEnv {
  dir: string;
  /** Disk use in KiB (`du -sk`). */
  kib: number;
  /** unused: ready but not used for the given days; unfinished: a build that died a day or more ago. */
  reason: "unused" | "unfinished";
}

const MARK = "offload-env-pruned";

/**
 * Skips an env being built (its `.lock` exists) and one a live process has active (its VIRTUAL_ENV,
 * read from /proc where there is one). Takes the build lock while removing, and renames the env away
 * first, so a run that starts meanwhile builds a fresh env instead of finding half of this one.
 */
export function buildEnvPruneScript(options: PruneOptions): string {
  const days = Math.max(0, Math.floor(options.olderThanDays));
  const ready = ENV_READY_FILE;
  return [
    `root=${quoteEnvRoot(options.envRoot ?? DEFAULT_ENV_ROOT)}`,
    `[ -d "$root" ] || exit 0`,
    `offload_in_use() {`,
    `  [ -d /proc ] || return 1`,
    // -q: a match counts even where other users' environ files are unreadable (grep then exits 2).
    `  grep -aqF "VIRTUAL_ENV=$1" /proc/[0-9]*/environ 2>/dev/null`,
    `}`,
    `for dir in "$root"/*; do`,
    `  case \${dir##*/} in *.lock | *.pruning-*) continue ;; esac`,
    `  [ -d "$dir" ] && [ ! -e "$dir.lock" ] || continue`,
    `  if [ -f "$dir/${ready}" ]; then`,
    `    [ -n "$(find "$dir/${ready}" -mtime +${days} 2>/dev/null)" ] || continue`,
    `    why=unused`,
    `  else`,
    `    [ -n "$(find "$dir" -prune -mtime +0 2>/dev/null)" ] || continue`,
    `    why=unfinished`,
    `  fi`,
    `  offload_in_use "$dir" && continue`,
    `  kib=0; set -- $(du -sk "$dir" 2>/dev/null); kib=\${1:-0}`,
    options.dryRun
      ? `  printf '${MARK} %s %s %s\\n' "$why" "$kib" "$dir"; continue`
      : `  mkdir "$dir.lock" 2>/dev/null || continue`,
    `  gone="$dir.pruning-$$"`,
    `  if mv "$dir" "$gone"; then rm -rf "$gone"; printf '${MARK} %s %s %s\\n' "$why" "$kib" "$dir"; fi`,
    `  rmdir "$dir.lock" 2>/dev/null`,
    `done`,
    `exit 0`,
  ].join("\n");
}

export function parsePruneOutput(stdout: string): PrunedEnv[] {
  const pruned: PrunedEnv[] = [];
  for (const line of stdout.split("\n")) {
    const match = new RegExp(`^${MARK} (unused|unfinished) (\\d+) (.+)$`).exec(line);
    if (match)
      pruned.push({
        reason: match[1] as PrunedEnv["reason"],
        kib: Number(match[2]),
        dir: match[3] ?? "",
      });
  }
  return pruned;
}
