// `offload check` against this machine: the probe's one round trip, read into lines a person reads.
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describe("offload check --host local", () => {
  it("says what the host has, memory and disk in binary units, and exits 0", async () => {
    project = await makeProject();
    const result = await runInProject(project, ["check", "--host", "local"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^local: reachable in \d+ ms — /);
    expect(result.stdout).toMatch(
      /cpu \d+ cores, memory \d+\.\d (MiB|GiB|TiB), free disk \d+\.\d (KiB|MiB|GiB|TiB) in \//,
    );
  });
});
