// What a prepare starts on the host, under the real sh on this machine with `mkdir` behind a wrapper
// that records how it was asked: a prepare runs on every host of every job (16 hosts: 16 of each), so
// what a builtin can tell costs no process.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { LocalTransport } from "../../src/transport/local.js";

const transport = new LocalTransport();
let root: string;
let tools: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "offload prepare 'starts' "));
  tools = mkdtempSync(join(tmpdir(), "offload-mkdir-wrapper-"));
  const real = ["/usr/bin/mkdir", "/bin/mkdir"].find((path) => existsSync(path));
  writeFileSync(
    join(tools, "mkdir"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${tools}/mkdir.log'\nexec ${real} "$@"\n`,
  );
  chmodSync(join(tools, "mkdir"), 0o755);
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(tools, { recursive: true, force: true });
});

/** Runs a prepare of `dir` taking the lock for `runId`; returns the mkdir calls it made. */
async function prepare(dir: string, runId: string): Promise<string[]> {
  rmSync(join(tools, "mkdir.log"), { force: true });
  const script = buildPrepareScript(dir, { runId, force: false, graceSeconds: 1 });
  const result = await transport.exec(`PATH='${tools}':$PATH; export PATH\n${script}`);
  expect(result.code, result.stderr).toBe(0);
  const log = join(tools, "mkdir.log");
  return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
}

describe("a prepare's process starts", () => {
  it("makes the remote dir on the first run only: later runs find it with a builtin", async () => {
    const dir = join(root, "work dir");
    expect(await prepare(dir, "20261202-100000-aaaa")).toContain(`-p ${dir}`);
    expect(existsSync(dir)).toBe(true);
    rmSync(join(dir, ".offload", "lock"));
    // The run's own dir is new on every run: that mkdir stays.
    expect(await prepare(dir, "20261202-100001-bbbb")).toEqual([
      "-p .offload/runs/20261202-100001-bbbb",
    ]);
  });
});
