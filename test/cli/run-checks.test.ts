// Mistakes caught before anything connects, and what people read: counts, times, target names.
import { afterEach, describe, expect, it } from "vitest";
import { countOf } from "../../src/cli/render.js";
import { describeHolder } from "../../src/session/lock.js";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const offload = runInProject;

describe("checks before connecting", () => {
  it("refuses a python.requirements file that does not exist, naming the file and the key, before connecting", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "python:\n  requirements: reqs/missing.txt\n");
    const result = await offload(project, ["run", "--host", "local", "--", "true"]);
    expect(result.stderr).toContain("E_CONFIG_VALUE");
    expect(result.stderr).toContain("python.requirements: reqs/missing.txt is not a file");
    expect(result.stderr).not.toContain("connected to");
    expect(result.stderr).not.toContain("synced");
    expect(result.code).toBe(200);
  });

  it("says which target a mistyped --host probably meant", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "targets:\n  gpu-box:\n    host: local\n");
    const result = await offload(project, ["config", "--host", "gpu-bxo"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      "warning: `gpu-bxo` is not a target in offload.yaml; did you mean `gpu-box`?",
    );
    // The right name, and a host far from every target, say nothing.
    for (const host of ["gpu-box", "example.org", "other"]) {
      const quiet = await offload(project, ["config", "--host", host]);
      expect(quiet.stderr, host).not.toContain("did you mean");
    }
  });
});

describe("what people read", () => {
  it("counts with the right plural: synced 1 file, downloaded 1 file", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "download:\n  - out.txt\n");
    const result = await offload(project, [
      "run",
      "--host",
      "local",
      "--",
      "sh",
      "-c",
      "echo x > out.txt",
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/synced 1 file with/);
    expect(result.stderr).toMatch(/downloaded 1 file \(/);
    expect(result.stderr).not.toMatch(/\b1 files\b/);
    expect(countOf(1, "file")).toBe("1 file");
    expect(countOf(0, "byte")).toBe("0 bytes");
  });

  it("shows when a lock was taken as local time and how long ago, not an ISO stamp", () => {
    const taken = Date.UTC(2026, 0, 2, 3, 4, 5);
    const text = describeHolder(`20260102-030405-abcd ${taken / 1000}`, taken + 125_000);
    expect(text).toMatch(
      /^run 20260102-030405-abcd \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, 2 min ago\)$/,
    );
    expect(text).not.toContain("T03:04:05");
  });
});
