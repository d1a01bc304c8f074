// `results:`, `inputs:`, `storage:`, `retry:` and `every:` as offload.yaml and flags give them.
import { describe, expect, it } from "vitest";
import { toCliLayer } from "../../src/cli/settings.js";
import { parseDuration } from "../../src/config/duration.js";
import { mergeSettings } from "../../src/config/merge.js";
import { parseSettingsText } from "../../src/config/parse-file.js";

const base = { projectDir: "/home/ana/proj", homeDir: "/home/ana" };
const read = (text: string) => {
  const parsed = parseSettingsText(text, "offload.yaml");
  return mergeSettings({
    ...base,
    project: { kind: "project", file: "offload.yaml", ...parsed, dir: base.projectDir },
  });
};

describe("bucket and retry settings", () => {
  it("reads durations as people write them", () => {
    expect(parseDuration("5m")).toBe(300);
    expect(parseDuration("30s")).toBe(30);
    expect(parseDuration("1.5h")).toBe(5400);
    expect(parseDuration(90)).toBe(90);
    expect(parseDuration("soon")).toBeUndefined();
  });

  it("reads results, storage, inputs in their three forms, retry and a checkpoint rule", () => {
    const { settings } = read(
      [
        "results: { url: s3://bkt/runs/, every: 2m }",
        "storage: { endpoint: 'http://10.0.0.1:9000', region: eu-west-1 }",
        "inputs:",
        "  - s3://bkt/datasets/x.tar|data/",
        "  - s3://bkt/datasets/y.tar → data/y.tar",
        "  - { from: gs://other/z.bin, to: z/ }",
        "retry: { attempts: 3, on: [lost], backoff: 10s }",
        "download:",
        "  - { path: 'ckpt/*.pt', every: 5m }",
        "  - out/*",
      ].join("\n"),
    );
    expect(settings.results).toEqual({ url: "s3://bkt/runs/", every: 120 });
    expect(settings.storage).toEqual({ endpoint: "http://10.0.0.1:9000", region: "eu-west-1" });
    expect(settings.inputs).toEqual([
      { url: "s3://bkt/datasets/x.tar", to: "data/" },
      { url: "s3://bkt/datasets/y.tar", to: "data/y.tar" },
      { url: "gs://other/z.bin", to: "z/" },
    ]);
    expect(settings.retry).toEqual({ attempts: 3, on: ["lost"], backoffSeconds: 10 });
    expect(settings.download).toEqual([
      { kind: "glob", pattern: "ckpt/*.pt", every: 300 },
      { kind: "glob", pattern: "out/*" },
    ]);
  });

  it("defaults to one attempt, and --retries N makes N+1", () => {
    expect(read("name: p").settings.retry).toEqual({
      attempts: 1,
      on: ["failed", "lost"],
      backoffSeconds: 30,
    });
    const cli = toCliLayer({ retries: "2", results: "s3://bkt/r/" });
    const { settings } = mergeSettings({ ...base, cli });
    expect(settings.retry.attempts).toBe(3);
    expect(settings.results).toEqual({ url: "s3://bkt/r/" });
    expect(() => toCliLayer({ retries: "two" })).toThrow("--retries two is not a number");
  });

  it("points at the line of a bad bucket URL, duration or retry", () => {
    expect(() => read("name: p\nresults: ftp://x/y")).toThrow(/offload.yaml.*results.*bucket URL/s);
    expect(() => read("download:\n  - { path: out/*, every: soon }")).toThrow(
      /duration such as 30s/,
    );
    expect(() => read("retry: { on: [crashed] }")).toThrow(/expected failed or lost/);
  });
});
