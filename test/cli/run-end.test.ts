// The last line of a followed run: where its outputs and report are, and its main metric's best value.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const offload = runInProject;

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

describe("the final line of a run", () => {
  it("names the run dir, the report command and the best value of the main metric", async () => {
    project = await makeProject();
    await project.write(
      "train.py",
      'for step, loss in enumerate([0.9, 0.25, 0.4]):\n    print(f"step {step} loss={loss}", flush=True)\n',
    );
    await project.write("offload.yaml", "progress:\n  patterns:\n    - 'loss=(?<loss>[0-9.]+)'\n");
    const result = await offload(project, ["run", "--host", "local", "--", "python3", "train.py"]);
    expect(result.code).toBe(0);
    const [id] = await project.runIds();
    if (!id) throw new Error("no run recorded");
    // The metric was recorded where the line says the outputs are.
    const metrics = await readFile(join(project.dir, ".offload/runs", id, "metrics.jsonl"), "utf8");
    expect(metrics).toContain('"name":"loss"');
    expect(lastLine(result.stderr)).toBe(
      `outputs: .offload/runs/${id}/ · best loss 0.25 · report: offload report ${id}`,
    );
  });

  it("leaves the metric out when the log had none, also under --quiet", async () => {
    project = await makeProject();
    const result = await offload(project, ["run", "--host", "local", "-q", "--", "echo", "hi"]);
    expect(result.code).toBe(0);
    const [id] = await project.runIds();
    expect(lastLine(result.stderr)).toBe(
      `outputs: .offload/runs/${id}/ · report: offload report ${id}`,
    );
  });

  it("is not printed with --json, where stdout stays JSON", async () => {
    project = await makeProject();
    const result = await offload(project, ["run", "--host", "local", "--json", "--", "true"]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("outputs:");
    expect(result.stdout).not.toContain("outputs:");
  });
});
