// Shared set-up for the env script tests: a hostile temp dir as home and workspace, local wheels made
// on the spot, and a pip that can only see them (no index, no user or system pip config).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach } from "vitest";
import {
  buildEnvScript,
  type EnvPlan,
  type EnvResult,
  hashEnvInputs,
  parseEnvResult,
} from "../../src/pyenv/index.js";
import { runProcess } from "../../src/transport/process.js";

export const PYTHON = "/usr/bin/python3";

/** True where Debian's venv works: ensurepip comes only with python3-venv. */
export const HAS_VENV =
  spawnSync(PYTHON, ["-c", "import ensurepip, venv"], { stdio: "ignore" }).status === 0;
// A skipped test says why, in every file that imports this.
if (!HAS_VENV)
  process.stderr.write(
    `[env] skipping the env build tests: ${PYTHON} -m venv can't work (apt-get install python3-venv)\n`,
  );

// A wheel is a zip with the package, METADATA, WHEEL and a RECORD of hashes: small enough to write here,
// so the tests need neither setuptools nor an index.
const WHEEL_CODE = `
import base64, hashlib, sys, zipfile
out, name, version = sys.argv[1:4]
dist = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": f'VERSION = "{version}"\\n',
    f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: offload-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
    for path, text in files.items():
        data = text.encode()
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    z.writestr(f"{dist}/RECORD", "\\n".join(record) + "\\n")
`;

/** Writes `<name>-<version>-py3-none-any.whl` into `dir` (with /usr/bin/python3, no setuptools needed). */
export function makeWheel(dir: string, name: string, version: string): void {
  const made = spawnSync(PYTHON, ["-c", WHEEL_CODE, dir, name, version], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`making a wheel failed: ${made.stderr}`);
}

export interface EnvBed {
  root: string;
  home: string;
  workspace: string;
  wheels: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function createEnvBed(): EnvBed {
  // A space, a `$` and a quote in every path: the script must quote what it is given.
  const root = realpathSync(mkdtempSync(join(tmpdir(), "offload env $HOME 'q' ")));
  const home = join(root, "home dir");
  const workspace = join(root, "work space");
  const wheels = join(root, "wheels");
  for (const dir of [home, workspace, wheels]) mkdirSync(dir);
  for (const version of ["1.0", "2.0"]) {
    const made = spawnSync(PYTHON, ["-c", WHEEL_CODE, wheels, "tinypkg", version], {
      encoding: "utf8",
    });
    if (made.status !== 0) throw new Error(`making a wheel failed: ${made.stderr}`);
  }
  const inherited = Object.entries(process.env).filter(
    ([name]) => !name.startsWith("PIP_") && !name.startsWith("VIRTUAL_ENV"),
  );
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    HOME: home,
    PIP_CONFIG_FILE: "/dev/null",
    PIP_NO_INDEX: "1",
    // pip splits PIP_FIND_LINKS on spaces: a file URL keeps the hostile path whole.
    PIP_FIND_LINKS: pathToFileURL(wheels).href,
  };
  return {
    root,
    home,
    workspace,
    wheels,
    env,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export function writeWorkspaceFile(bed: EnvBed, path: string, content: string): void {
  writeFileSync(join(bed.workspace, path), content);
}

export function planFor(bed: EnvBed, overrides: Partial<EnvPlan>): EnvPlan {
  return {
    remoteDir: bed.workspace,
    key: "0123456789abcdef",
    interpreter: PYTHON,
    requirements: ["requirements.txt"],
    systemSitePackages: false,
    rebuild: false,
    ...overrides,
  };
}

export interface EnvRun {
  code: number;
  stdout: string;
  stderr: string;
  result: EnvResult | undefined;
}

/** Runs the env script the way a transport does: `sh -c` (dash here), stdin empty. */
export async function runEnvScript(
  bed: EnvBed,
  plan: EnvPlan,
  onStderr?: (chunk: Buffer) => void,
): Promise<EnvRun> {
  const options = onStderr === undefined ? { env: bed.env } : { env: bed.env, onStderr };
  const done = await runProcess(["/bin/sh", "-c", buildEnvScript(plan)], options);
  return { ...done, result: parseEnvResult(done.stderr, done.stdout) };
}

/** Runs Python code with the env's own interpreter; returns its stdout, trimmed. */
export function runInEnv(binDir: string, code: string): { status: number | null; out: string } {
  const done = spawnSync(join(binDir, "python"), ["-c", code], { encoding: "utf8" });
  return { status: done.status, out: `${done.stdout}${done.stderr}`.trim() };
}

/** The env key of a `requirements.txt` holding `text`, as a run computes it. */
export function keyOf(text: string, systemSitePackages = false): string {
  return hashEnvInputs([{ path: "requirements.txt", content: text }], PYTHON, systemSitePackages);
}

/** A fresh env bed for each test of the calling file, handed to `set`, removed after the test. */
export function useEnvBed(set: (bed: EnvBed) => void): void {
  let current: EnvBed | undefined;
  beforeEach(() => {
    current = createEnvBed();
    set(current);
  });
  afterEach(() => {
    current?.cleanup();
    current = undefined;
  });
}
