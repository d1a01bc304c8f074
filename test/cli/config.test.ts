// `offload config` without --json: a table of key, value and source, defaults with their values.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "offload-config-"));
  await writeFile(join(dir, "offload.yaml"), "env:\n  SEED: '7'\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("offload config", () => {
  it("prints a table of key, value and source, with the defaults' values", async () => {
    const result = await runCli(["config", "--host", "local"], { cwd: dir });
    expect(result.code).toBe(0);
    const rows = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => line.split(/\s{2,}/));
    expect(rows[0]).toEqual(["KEY", "VALUE", "SOURCE"]);
    expect(rows).toContainEqual(["host", "local", "cli"]);
    expect(rows).toContainEqual(["env.SEED", "7", "offload.yaml:2"]);
    expect(rows).toContainEqual(["ssh.keepalive", "5", "default"]);
    expect(rows).toContainEqual(["ssh.connect_timeout", "10", "default"]);
  });

  it("--json shows the defaults' values too", async () => {
    const result = await runCli(["config", "--host", "local", "--json"], { cwd: dir });
    expect(JSON.parse(result.stdout).ssh.keepalive).toEqual({ value: 5, source: "default" });
  });
});
