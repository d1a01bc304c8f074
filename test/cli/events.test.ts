// `offload events FILE`: the real CLI on the log fixtures, as a user checking a regex would run it.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLogLines, parseLogText } from "../../src/progress/stream.js";
import { readFixture } from "../progress/read-fixture.js";
import { runCli } from "../support/cli.js";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/logs/${name}`, import.meta.url));

let cwd = "";
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "offload-events-"));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("offload events", () => {
  it("prints, with --json, the events a live run would parse, each with its line", async () => {
    const result = await runCli(["events", fixture("keras-tf2.txt"), "--json"], { cwd });
    expect(result.code).toBe(0);
    const printed = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const expected = parseLogText(readFixture("keras-tf2.txt"));
    expect(printed.map(({ line: _line, ...event }) => event)).toEqual(expected);
    expect(printed[0]).toMatchObject({ line: 1, type: "progress", epoch: 1, epochs: 3 });
    expect(printed).toContainEqual(
      expect.objectContaining({ line: 3, type: "metric", name: "val_loss" }),
    );
  });

  it("prints a table for people, with a count of what it found", async () => {
    const result = await runCli(["events", fixture("epoch.txt")], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^1 {2}progress {2}epoch 1\/2 {2}step 1\/2\s+\[epoch\]$/m);
    expect(result.stdout).toMatch(/^1 {2}metric {4}loss = 5\.2281 epoch 1 step 1\s+\[epoch\]$/m);
    expect(result.stderr).toMatch(/progress events, \d+ metrics \(loss, lr, train_loss/);
  });

  it("applies progress.patterns from offload.yaml as a run would, before --pattern's", async () => {
    const project = await mkdtemp(join(tmpdir(), "offload-events-config-"));
    try {
      await writeFile(
        join(project, "offload.yaml"),
        "progress:\n  patterns:\n    - 'Python (?<python_minor>\\d+\\.\\d+)'\n",
      );
      const result = await runCli(["events", fixture("noise.txt"), "--json"], { cwd: project });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('"name":"python_minor","value":3.11');
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });

  it("adds the metrics of a user's --pattern", async () => {
    const args = ["events", fixture("noise.txt"), "--json"];
    const plain = await runCli(args, { cwd });
    const pattern = "Python (?<python_minor>\\d+\\.\\d+)";
    const withPattern = await runCli([...args, "--pattern", pattern], { cwd });
    expect(plain.stdout).not.toContain("python_minor");
    const events = withPattern.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events).toContainEqual({
      line: 2,
      type: "metric",
      name: "python_minor",
      value: 3.11,
      source: "pattern",
    });
  });

  it("says what went wrong with a file it cannot read or a pattern it cannot compile", async () => {
    const missing = await runCli(["events", join(cwd, "nope.log")], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("E_USAGE");
    const bad = await runCli(["events", fixture("epoch.txt"), "--pattern", "(?<x>"], { cwd });
    // Typed on the command line, a bad pattern is a usage error; the same one in offload.yaml is not.
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("E_USAGE");
    expect(bad.stderr).toContain("--pattern is not a valid regular expression: (?<x>");
    expect(bad.stderr).toContain("hint: Use JavaScript regex syntax");
  });

  it("finds the same events line by line as the whole-text parser, on every fixture", () => {
    for (const name of [
      "epoch.txt",
      "hf-trainer.txt",
      "json.txt",
      "keras3.txt",
      "lightning.txt",
      "result.txt",
      "tqdm.txt",
      "yolo.txt",
    ]) {
      const text = readFixture(name);
      expect(
        parseLogLines(text, []).map((e) => e.event),
        name,
      ).toEqual(parseLogText(text));
    }
  });
});
