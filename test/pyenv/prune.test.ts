// `offload env prune` against real directories: the script run by the real shell, with real find, du,
// mv and /proc, through the local transport.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatPruned } from "../../src/cli/commands/env.js";
import { ENV_READY_FILE } from "../../src/pyenv/index.js";
import { pruneEnvs } from "../../src/session/env-prune.js";
import { LocalTransport } from "../../src/transport/local.js";
import { runCli } from "../support/cli.js";
import { makeProject } from "../support/project.js";

const DAY = 24 * 3600;
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "offload envs 'q' "));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** An env dir, its ready file (when ready) last touched `days` ago. */
function makeEnv(name: string, days: number, ready = true): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "bin", "python"), "x".repeat(4096));
  const when = Date.now() / 1000 - days * DAY;
  if (ready) {
    writeFileSync(join(dir, ENV_READY_FILE), "built\n");
    utimesSync(join(dir, ENV_READY_FILE), when, when);
  }
  utimesSync(dir, when, when);
  return dir;
}

const KEY = "0123456789abcdef";

describe("pruneEnvs", () => {
  it("removes envs unused past the limit and dead builds, keeps the rest", async () => {
    const old = makeEnv(`${KEY}-py3.11.2-aaaaaa`, 40);
    const recent = makeEnv(`${KEY}-py3.12.1-bbbbbb`, 3);
    const building = makeEnv(`fedcba9876543210-py3.11.2-aaaaaa`, 40, false);
    mkdirSync(`${building}.lock`);
    const dead = makeEnv(`1111111111111111-py3.11.2-aaaaaa`, 2, false);
    const starting = makeEnv(`2222222222222222-py3.11.2-aaaaaa`, 0, false);

    const transport = new LocalTransport();
    const dry = await pruneEnvs(transport, { envRoot: root, olderThanDays: 30, dryRun: true });
    expect(dry.map((env) => env.dir).sort()).toEqual([dead, old].sort());
    expect(existsSync(old)).toBe(true);

    const pruned = await pruneEnvs(transport, { envRoot: root, olderThanDays: 30, dryRun: false });
    expect(pruned).toEqual(
      expect.arrayContaining([
        { dir: old, kib: expect.any(Number), reason: "unused" },
        { dir: dead, kib: expect.any(Number), reason: "unfinished" },
      ]),
    );
    expect(pruned).toHaveLength(2);
    expect(pruned[0]?.kib).toBeGreaterThanOrEqual(4);
    for (const gone of [old, dead]) expect(existsSync(gone)).toBe(false);
    for (const kept of [recent, building, `${building}.lock`, starting])
      expect(existsSync(kept)).toBe(true);
  });

  it("keeps an old env that a running process has active", async () => {
    const old = makeEnv(`${KEY}-py3.11.2-aaaaaa`, 90);
    const job = spawn("sleep", ["30"], { env: { ...process.env, VIRTUAL_ENV: old } });
    try {
      const pruned = await pruneEnvs(new LocalTransport(), {
        envRoot: root,
        olderThanDays: 30,
        dryRun: false,
      });
      expect(pruned).toEqual([]);
      expect(existsSync(old)).toBe(true);
    } finally {
      job.kill();
    }
  });

  it("does nothing where no env was ever made", async () => {
    const pruned = await pruneEnvs(new LocalTransport(), {
      envRoot: join(root, "none"),
      olderThanDays: 0,
      dryRun: false,
    });
    expect(pruned).toEqual([]);
  });
});

describe("offload env prune", () => {
  it("removes a home's old env, says what it freed, and refuses a bad --older-than", async () => {
    const project = await makeProject();
    try {
      const cli = (args: string[]) =>
        runCli(args, { cwd: project.dir, env: { HOME: project.home } });
      const bad = await cli(["env", "prune", "--host", "local", "--older-than", "soon"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--older-than takes a whole number of days, not soon");

      root = join(project.home, ".offload", "envs");
      const old = makeEnv(`${KEY}-py3.11.2-aaaaaa`, 45);
      const dry = await cli(["env", "prune", "--host", "local", "--dry-run"]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`would remove ${old} (`);
      expect(existsSync(old)).toBe(true);
      const done = await cli(["env", "prune", "--host", "local"]);
      expect(done.stdout).toMatch(/removed 1 env, \d+(\.\d+)? KiB/);
      expect(existsSync(old)).toBe(false);
      const again = await cli(["env", "prune", "--host", "local", "--json"]);
      expect(again.stdout).toBe("");
    } finally {
      await project.remove();
    }
  });

  it("words an empty result and a total", () => {
    const options = { dryRun: false, olderThanDays: 14 };
    expect(formatPruned([], options)).toBe(
      "no cached env is unused for more than 14 days or left unfinished",
    );
    expect(
      formatPruned(
        [
          { dir: "/h/.offload/envs/a", kib: 2048, reason: "unused" },
          { dir: "/h/.offload/envs/b", kib: 1024, reason: "unfinished" },
        ],
        options,
      ),
    ).toBe(
      [
        "removed /h/.offload/envs/a (2.0 MiB, unused for more than 14 days)",
        "removed /h/.offload/envs/b (1.0 MiB, a build that never finished)",
        "removed 2 envs, 3.0 MiB",
      ].join("\n"),
    );
  });
});
