// Usage errors: one error line with its code, the command's usage line and a hint, never the whole help;
// the same kind of bad flag value exits 2 whichever flag carries it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "offload-usage-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("usage errors", () => {
  it("an unknown flag prints one error, the usage line and a hint, not the help", async () => {
    const result = await runCli(["run", "--bogus", "--", "true"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      "error E_USAGE: unknown option '--bogus'",
      "usage: offload run [options] -- <command...>",
      "hint: `offload run --help`",
    ]);
    expect(result.stdout).toBe("");
  });

  it("shows a hostile name escaped, and ends the hint's sentence before `More:`", async () => {
    const result = await runCli(["down", "a\nb"], { cwd: dir, env: { HOME: dir } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      `error E_USAGE: no machine "a\\nb" in offload's ledger or among the clouds' tagged machines`,
      "usage: offload down [options] [machines...]",
      "hint: `offload machines` lists them; name one by its MACHINE column or its cloud id. More: `offload down --help`.",
    ]);
  });

  it("says a mistyped port of `forward` is no port (not that a port is missing), before connecting", async () => {
    for (const spec of ["8000:", " 8000", "80:80:80", "-1", "0", "65536"]) {
      const result = await runCli(["forward", "--host", "offload-nowhere", spec], { cwd: dir });
      expect(result.stderr).toContain(
        `error E_USAGE: ${JSON.stringify(spec)} is not a port to forward.`,
      );
      expect(result.code).toBe(2);
    }
  });

  it("names the subcommand's own usage", async () => {
    const result = await runCli(["env", "prune", "--nope"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: offload env prune [options]");
    expect(result.stderr).toContain("`offload env prune --help`");
  });

  it.each([
    [["-e", "NOEQUALS"], "-e NOEQUALS is not KEY=VALUE."],
    [["--gpus", "two"], "--gpus two is not a number of GPUs."],
    [["--port", "ssh"], "--port ssh is not a port number."],
  ])("a bad value for %j exits 2 with E_USAGE", async (flag, message) => {
    const result = await runCli(["run", "--host", "local", ...flag, "--", "true"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error E_USAGE: ${message}`);
    expect(result.stderr).toContain("usage: offload run [options] -- <command...>");
    expect(result.stderr).toContain("`offload run --help`");
  });

  it.each([
    ["a b", "it contains whitespace", "[user@]host[:port][/path]"],
    ["", "it is empty", "[user@]host[:port][/path]"],
    ["-oFoo", "starts with `-`, like an ssh option", "~/.ssh/config"],
    ["-oProxyCommand=touch /tmp/x", "starts with `-`, like an ssh option", "~/.ssh/config"],
    ["a,-oFoo", "starts with `-`, like an ssh option", "~/.ssh/config"],
  ])("a bad --host %j exits 2 with E_USAGE and a hint", async (host, why, hint) => {
    const result = await runCli(["run", "--host", host, "--", "true"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error E_USAGE: command line: host: Invalid host");
    expect(result.stderr).toContain(why);
    expect(result.stderr).toContain("usage: offload run [options] -- <command...>");
    expect(result.stderr).toMatch(new RegExp(`hint: .*${hint.replace(/[[\]/.~]/g, "\\$&")}`));
  });

  it("refuses two nodes of one job on the same host and remote dir, before connecting", async () => {
    const result = await runCli(["run", "--host", "local,local", "--", "true"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "error E_USAGE: Nodes 0 and 1 are the same host and remote dir (local,",
    );
    expect(result.stderr).toContain("they would share its files and its lock");
    expect(result.stderr).not.toContain("E_LOCKED");
  });
});

describe("--json", () => {
  it("config --json is one JSON object on one line", async () => {
    const result = await runCli(["config", "--host", "local", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(typeof JSON.parse(lines[0] ?? "")).toBe("object");
  });
});
