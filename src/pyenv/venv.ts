// Builds the one sh script that reuses or builds a run's cached Python env on the host: a venv per
// dependency hash under ~/.offload/envs, built once under a lock and marked ready last.
import { quoteRemotePath, quoteShell } from "../shell/quote.js";
import { buildEnvLockSteps } from "./venv-lock.js";

export interface EnvPlan {
  /** The synced workspace; dependency files are read from here and relative requirements resolve here. */
  remoteDir: string;
  /** `hashEnvInputs(...)`: 16 hex digits. */
  key: string;
  /** Program name or path of the base Python, e.g. `python3` or `/opt/py/bin/python3.12`. */
  interpreter: string;
  /**
   * Dependency files relative to the remote dir, installed in order. A file named `pyproject.toml`
   * contributes its `[project].dependencies` (the project itself is not installed: the job runs from
   * the workspace); any other file is a pip requirements file (`-r`).
   */
  requirements: readonly string[];
  systemSitePackages: boolean;
  /** Delete the env and build it again, even when it is ready. */
  rebuild: boolean;
  /** Where envs live; `~/…`, absolute, or relative to the remote home. Default `~/.offload/envs`. */
  envRoot?: string;
  /** How long to wait for another build of the same env before giving up. Default 2 h. */
  lockWaitSeconds?: number;
  /** A lock held from another machine (shared home) older than this is taken over. Default 1 h. */
  staleLockSeconds?: number;
}

export const DEFAULT_ENV_ROOT = "~/.offload/envs";
export const ENV_READY_FILE = ".offload-ready";

// Adds the interpreter's version and a digest of its real path to the env's dir name: only the host
// knows what `python3` is there, and a venv only works with the exact Python that made it.
const TAG_CODE = [
  "import hashlib, os, sys",
  "exe = os.path.realpath(sys.executable).encode()",
  'print("py%d.%d.%d-%s" % (sys.version_info[:3] + (hashlib.sha256(exe).hexdigest()[:6],)))',
].join("\n");

// tomllib is standard from Python 3.11; before that only a tomli the base Python happens to have helps.
const PYPROJECT_DEPS_CODE = [
  "import sys",
  "try:",
  "    import tomllib",
  "except ImportError:",
  "    try:",
  "        import tomli as tomllib",
  "    except ImportError:",
  '        sys.exit("offload-env: reading pyproject.toml needs Python 3.11+ (or tomli); list the dependencies in a requirements file instead")',
  'with open(sys.argv[1], "rb") as f:',
  '    deps = tomllib.load(f).get("project", {}).get("dependencies", [])',
  "for dep in deps:",
  "    print(dep)",
].join("\n");

export function quoteEnvRoot(root: string): string {
  if (root === "~" || root.startsWith("~/") || root.startsWith("/")) return quoteRemotePath(root);
  return `"$HOME"/${quoteShell(root)}`;
}

function isPyproject(path: string): boolean {
  return path === "pyproject.toml" || path.endsWith("/pyproject.toml");
}

/** One install step per dependency file; a pyproject's dependencies go through a requirements file. */
function buildInstallSteps(requirements: readonly string[]): string[] {
  return requirements.flatMap((file, index) => {
    const quoted = quoteShell(file);
    const label = quoteShell(`installing ${file}`);
    if (!isPyproject(file)) return [`offload_env_step ${label} offload_env_install -r ${quoted}`];
    const deps = `"$dir/.offload-deps-${index}.txt"`;
    return [
      `offload_env_step ${quoteShell(`reading ${file}`)} offload_env_pyproject ${quoted} ${deps}`,
      `if [ -s ${deps} ]; then offload_env_step ${label} offload_env_install -r ${deps}; fi`,
    ];
  });
}

/**
 * The env script, run with `sh -c` (stdin unused). stdout carries the build's own output (venv, pip);
 * stderr carries only markers: `offload-env waiting <owner>`, then one of `offload-env reused <dir>`,
 * `offload-env built <dir>` or `offload-env failed <code>` (the exit status is that code as well).
 * A dir without the ready file is a build that died half way: it is wiped and built again.
 */
export function buildEnvScript(plan: EnvPlan): string {
  if (!/^[0-9a-f]{16}$/.test(plan.key)) throw new Error(`buildEnvScript: bad key ${plan.key}`);
  const site = plan.systemSitePackages ? " --system-site-packages" : "";
  return [
    "# offload env: reuse or build the cached Python env",
    `offload_env_fail() { printf 'offload-env: %s\\n' "$2"; printf 'offload-env failed %s\\n' "$1" >&2; exit "$1"; }`,
    `offload_env_done() { printf 'offload-env %s %s\\n' "$1" "$dir" >&2; exit 0; }`,
    `cd ${quoteRemotePath(plan.remoteDir)} || offload_env_fail 1 "cannot enter the remote dir"`,
    `PY=${quoteShell(plan.interpreter)}`,
    `command -v "$PY" >/dev/null 2>&1 || offload_env_fail 127 "no Python interpreter $PY on this host (python.interpreter in offload.yaml)"`,
    `tag=$("$PY" -c ${quoteShell(TAG_CODE)} </dev/null 2>&1) || offload_env_fail 1 "$PY does not run: $tag"`,
    `case $tag in py[0-9]*) ;; *) offload_env_fail 1 "$PY is not a Python 3: $tag" ;; esac`,
    `root=${quoteEnvRoot(plan.envRoot ?? DEFAULT_ENV_ROOT)}`,
    `mkdir -p "$root" || offload_env_fail 1 "cannot create $root"`,
    `dir="$root/${plan.key}-$tag"; lock="$dir.lock"; ready="$dir/${ENV_READY_FILE}"`,
    `rebuild=${plan.rebuild ? 1 : 0}`,
    // Reuse renews the ready file's time: `offload env prune` removes envs by their last use.
    `if [ $rebuild = 0 ] && [ -f "$ready" ]; then touch "$ready"; offload_env_done reused; fi`,
    ...buildEnvLockSteps(plan.lockWaitSeconds ?? 7200, plan.staleLockSeconds ?? 3600),
    // Under the lock from here: a build that finished while we waited is reused, not repeated.
    `if [ $rebuild = 0 ] && [ -f "$ready" ]; then touch "$ready"; rm -rf "$lock"; offload_env_done reused; fi`,
    `trap 'rm -rf "$dir" "$lock"; exit 129' HUP`,
    `trap 'rm -rf "$dir" "$lock"; exit 130' INT`,
    `trap 'rm -rf "$dir" "$lock"; exit 143' TERM`,
    // offload_env_step LABEL COMMAND...: on failure wipe the half-built env and release the lock.
    `offload_env_step() {`,
    `  what=$1; shift`,
    `  "$@" </dev/null 2>&1 && return 0`,
    `  c=$?; rm -rf "$dir" "$lock"; trap - HUP INT TERM`,
    `  offload_env_fail "$c" "$what failed (exit $c); nothing was kept, the next run builds again"`,
    `}`,
    `offload_env_pyproject() { "$PY" -c ${quoteShell(PYPROJECT_DEPS_CODE)} "$1" > "$2"; }`,
    `rm -rf "$dir"`,
    `if command -v uv >/dev/null 2>&1; then`,
    `  printf 'offload-env: building %s with uv\\n' "$dir"`,
    `  offload_env_install() { uv pip install --python "$dir/bin/python" "$@"; }`,
    `  offload_env_step 'creating the venv' uv venv${site} --python "$PY" "$dir"`,
    `else`,
    `  printf 'offload-env: building %s with pip\\n' "$dir"`,
    // Unbuffered: into a pipe, pip's lines would arrive in blocks, and a terminal's line of the build
    // would sit on "building" until the end.
    `  offload_env_install() { PYTHONUNBUFFERED=1 "$dir/bin/python" -m pip install --disable-pip-version-check --no-input "$@"; }`,
    `  offload_env_step 'creating the venv' "$PY" -m venv${site} "$dir"`,
    `fi`,
    ...buildInstallSteps(plan.requirements),
    // The ready file is written last: its presence is the only proof that the env is whole.
    `date > "$ready" || { rm -rf "$dir" "$lock"; offload_env_fail 1 "cannot write $ready"; }`,
    `rm -rf "$lock"; trap - HUP INT TERM`,
    `offload_env_done built`,
    "",
  ].join("\n");
}
