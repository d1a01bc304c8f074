// The bench's world: the test bed brought up (or shared) with a lease, the built CLI, temp projects.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { setup, teardown } from "../test/global-setup.js";
import type { TestbedInfo } from "../test/testbed/types.js";

export const REPO = fileURLToPath(new URL("..", import.meta.url));

export interface BenchContext {
  bed: TestbedInfo;
  host: string;
  scratch: string;
  /** argv prefix of the built CLI. */
  offload: string[];
  /** ssh argv prefix for baselines, with its own ControlPath (its own warm master). */
  ssh(controlDir: string | undefined): string[];
  cleanup(): void;
}

export async function openContext(): Promise<BenchContext> {
  const built = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], {
    cwd: REPO,
    stdio: "inherit",
  });
  if (built.status !== 0) throw new Error("build failed");
  let bed: TestbedInfo | undefined;
  await setup({
    provide: (_key: string, value: TestbedInfo) => (bed = value),
  } as unknown as TestProject);
  if (!bed || bed.mode === "none" || bed.hosts.length === 0)
    throw new Error(`no test bed: ${bed?.reason ?? "unknown"}`);
  const info = bed;
  const scratch = mkdtempSync(join(tmpdir(), "offload-bench-"));
  return {
    bed: info,
    host: info.hosts[0] ?? "offload-h1",
    scratch,
    offload: [process.execPath, join(REPO, "bin/offload.js")],
    ssh: (controlDir) => [
      "ssh",
      "-F",
      info.sshConfig,
      ...(controlDir
        ? [
            "-o",
            `ControlPath=${controlDir}/%C`,
            "-o",
            "ControlMaster=auto",
            "-o",
            "ControlPersist=300",
          ]
        : ["-o", "ControlMaster=no", "-o", "ControlPath=none"]),
    ],
    cleanup: () => {
      rmSync(scratch, { recursive: true, force: true });
      teardown();
    },
  };
}

/** A project tree of `count` small files (about 1 KiB each) in 50 folders. */
export function makeTree(root: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const path = join(root, `dir${i % 50}`, `file${i}.py`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `# file ${i}\n${"x = 1\n".repeat(170)}`);
  }
}
