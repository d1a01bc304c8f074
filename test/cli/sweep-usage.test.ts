// Mistakes in a sweep's grid are refused before any host is reached or any run is recorded.
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describe("offload sweep usage", () => {
  it("refuses a {name} no --param sets with exit 2, before any run", async () => {
    project = await makeProject();
    const result = await runInProject(project, [
      "sweep",
      "--host",
      "local",
      "--param",
      "a=1,2",
      "--",
      "echo",
      "{zz}",
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      "error E_USAGE: The command names {zz}, which no --param sets.",
    );
    expect(result.stderr).toContain("hint: Add `--param zz=…`");
    expect(result.stderr).not.toContain("sweep of");
    expect(await project.runIds()).toEqual([]);
  });

  it("refuses a --param given twice instead of keeping the last silently", async () => {
    project = await makeProject();
    const result = await runInProject(project, [
      "sweep",
      "--host",
      "local",
      "--param",
      "a=1",
      "--param",
      "a=2",
      "--",
      "echo",
      "{a}",
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("error E_USAGE: --param a is given twice.");
    expect(result.stderr).toContain("`--param a=1,2`");
    expect(await project.runIds()).toEqual([]);
  });

  it("says `1 run`, not `1 runs`", async () => {
    project = await makeProject();
    const result = await runInProject(project, [
      "sweep",
      "--host",
      "local",
      "--param",
      "a=1",
      "--",
      "echo",
      "{a}",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("sweep of 1 run over local");
  });
});
