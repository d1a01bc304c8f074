// The bench's world: the built CLI (rebuilt when stale), the test bed, a scratch dir, the argv of
// offload and of the bare tools it is compared with.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestbedInfo } from "../test/testbed/types.js";
import { acquireBed } from "./bed.js";

export const REPO = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = join(REPO, "dist", "offload.cjs");

export interface BenchContext {
  bed: TestbedInfo;
  host: string;
  scratch: string;
  /** Environment for every offload call: its own control sockets and no user config file. */
  env: NodeJS.ProcessEnv;
  /** Where offload's control sockets live with `env` (the `offload-<uid>` dir inside). */
  controlDir: string;
  /** argv of the built CLI. */
  offload: string[];
  /** ssh argv for baselines: a master of their own in `controlDir`, or none with `undefined`. */
  ssh(controlDir: string | undefined): string[];
  /**
   * A remote dir name of this bench run's own (`bench-<pid>-<random>-<name>`): the clean-up removes
   * these and nothing else, so two benches on the shared bed never delete each other's dirs mid-run.
   */
  remote(name: string): string;
  cleanup(): void;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** `npm run build` when any source is newer than the bundle `bin/offload.js` loads. */
export function buildIfStale(): void {
  let built = 0;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    // no bundle yet
  }
  const inputs = ["src", "scripts", "package.json", "tsconfig.build.json"].map((p) =>
    newestMtime(join(REPO, p)),
  );
  if (Math.max(...inputs) <= built) return;
  process.stderr.write("bench: dist/ is stale, running `npm run build`…\n");
  const result = spawnSync("npm", ["run", "build"], { cwd: REPO, stdio: "inherit" });
  if (result.status !== 0) throw new Error("npm run build failed");
}

export function sshArgv(sshConfig: string, controlDir: string | undefined): string[] {
  const control = controlDir
    ? ["-o", `ControlPath=${controlDir}/%C`, "-o", "ControlMaster=auto", "-o", "ControlPersist=300"]
    : ["-o", "ControlMaster=no", "-o", "ControlPath=none"];
  return ["ssh", "-F", sshConfig, ...control];
}

/** Ends the master of a control dir (offload's `offload-<uid>` or a baseline's), if one runs. */
export function exitMaster(sshConfig: string, host: string, controlPath: string): void {
  spawnSync("ssh", ["-F", sshConfig, "-o", `ControlPath=${controlPath}/%C`, "-O", "exit", host], {
    stdio: "ignore",
  });
}

export function offloadControlPath(controlDir: string): string {
  return join(controlDir, `offload-${process.getuid?.() ?? 0}`);
}

/** `bench-<pid>-<random>`: the names of this bench run's remote dirs start with it (ctx.remote). */
export function newBenchPrefix(): string {
  return `bench-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/**
 * Removes this bench run's remote dirs, also after a failed measure: `~/<prefix>-*` and
 * `/dev/shm/<prefix>-*`, nothing else, so another bench's dirs on the shared bed survive its clean-up.
 */
export function removeBenchDirs(sshConfig: string, host: string, prefix: string): void {
  if (!/^bench-[0-9]+-[0-9a-f]+$/.test(prefix)) throw new Error(`not a bench prefix: ${prefix}`);
  spawnSync(
    "ssh",
    [...sshArgv(sshConfig, undefined).slice(1), host, `rm -rf ${prefix}-* /dev/shm/${prefix}-*`],
    { stdio: "ignore", timeout: 30_000 },
  );
}

export async function openContext(): Promise<BenchContext> {
  buildIfStale();
  const bed = await acquireBed();
  const info = bed.info;
  const host = info.hosts[0] ?? "offload-h1";
  const scratch = mkdtempSync(join(tmpdir(), "offload-bench-"));
  const prefix = newBenchPrefix();
  const controlDir = join(scratch, "ctl");
  const config = join(scratch, "xdg");
  mkdirSync(controlDir, { mode: 0o700 });
  mkdirSync(config);
  return {
    bed: info,
    host,
    scratch,
    env: { ...process.env, OFFLOAD_CONTROL_DIR: controlDir, XDG_CONFIG_HOME: config },
    controlDir,
    offload: [process.execPath, join(REPO, "bin/offload.js")],
    ssh: (dir) => sshArgv(info.sshConfig, dir),
    remote: (name) => `${prefix}-${name}`,
    cleanup: () => {
      removeBenchDirs(info.sshConfig, host, prefix);
      exitMaster(info.sshConfig, host, offloadControlPath(controlDir));
      rmSync(scratch, { recursive: true, force: true });
      bed.release();
    },
  };
}

/** A project tree of `count` small files (about `bytes` each, 1 KiB by default) in 50 folders. */
export function makeTree(root: string, count: number, bytes = 1024): void {
  const body = "x = 1\n".repeat(Math.max(0, Math.round((bytes - 12) / 6)));
  for (let i = 0; i < count; i++) {
    const path = join(root, `dir${i % 50}`, `file${i}.py`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `# file ${i}\n${body}`);
  }
}

/** A warm master for the baselines, in a control dir of its own; `close` ends it. */
export function openBaselineMaster(ctx: BenchContext): { dir: string; close: () => void } {
  const dir = mkdtempSync(join(ctx.scratch, "base-"));
  const warm = spawnSync(ctx.ssh(dir)[0] ?? "ssh", [...ctx.ssh(dir).slice(1), ctx.host, "true"], {
    stdio: "ignore",
  });
  if (warm.status !== 0) throw new Error(`ssh ${ctx.host} true failed (${warm.status})`);
  return { dir, close: () => exitMaster(ctx.bed.sshConfig, ctx.host, dir) };
}
