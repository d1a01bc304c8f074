// A damaged or hostile run record never crashes offload and never reaches a path or a shell.
import { mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { jsonLines, runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const offload = runInProject;

async function plantRecord(p: TempProject, id: string, content: string): Promise<void> {
  const dir = join(p.dir, ".offload/runs", id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "run.json"), content);
}

describe("damaged run records", () => {
  it("ps lists good runs and names the damaged ones with a hint, never a crash", async () => {
    project = await makeProject();
    const good = await offload(project, ["run", "--host", "local", "--", "echo", "fine"]);
    expect(good.code).toBe(0);
    const [goodId = ""] = await project.runIds();
    await plantRecord(project, "20200101-000000-bad1", "{ not json");
    await plantRecord(project, "20200101-000000-bad2", "{}");
    await plantRecord(
      project,
      "20200101-000000-bad3",
      JSON.stringify({ ...(await project.record(goodId)), id: "20200101-000000-xxxx" }),
    );
    // Not a run id: not offload's, ignored (its run.json is never read).
    await plantRecord(project, "x;touch pwned", "{}");

    const ps = await offload(project, ["ps"]);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toContain(goodId);
    expect(ps.stdout).toMatch(/succeeded\s+0\s+\S+\s+-\s+echo fine/);
    expect(ps.stderr).toMatch(/20200101-000000-bad1\s+damaged\s+run\.json is not valid JSON/);
    expect(ps.stderr).toMatch(/20200101-000000-bad2\s+damaged\s+run\.json is not a run record/);
    expect(ps.stderr).toMatch(/20200101-000000-bad3\s+damaged\s+run\.json names run/);
    expect(ps.stderr).toContain("hint:");
    expect(ps.stderr).not.toContain("touch pwned");
    expect(ps.stderr).not.toContain("offload hit a bug");

    const json = await offload(project, ["ps", "--json"]);
    expect(json.code).toBe(0);
    expect((jsonLines(json.stdout) as { id: string }[]).map((r) => r.id)).toEqual([goodId]);
  });

  it("attach, stop, logs and report on a damaged record fail with E_RUN_DAMAGED and a hint", async () => {
    project = await makeProject();
    await plantRecord(project, "20200101-000000-bad2", "{}");
    for (const command of ["attach", "stop", "logs", "report"]) {
      const result = await offload(project, [command, "20200101-000000-bad2"]);
      expect(result.stderr, command).toContain("E_RUN_DAMAGED");
      expect(result.stderr, command).toContain("hint");
      expect(result.stderr, command).not.toContain("offload hit a bug");
      expect(result.code, command).toBe(200);
    }
  });

  it("a run id that is not an id never reaches a shell or a path", async () => {
    project = await makeProject();
    await plantRecord(project, "x;touch pwned", "{}");
    for (const command of ["attach", "stop", "logs"]) {
      const result = await offload(project, [command, "x;touch pwned"]);
      expect(result.stderr, command).toContain("E_RUN_NOT_FOUND");
      expect(result.code, command).toBe(200);
    }
    expect(await readdir(project.dir)).not.toContain("pwned");
  });

  it("a run's file replaced by a symlink or a folder is damaged: never read, written or crashed on", async () => {
    project = await makeProject();
    const good = await offload(project, ["run", "--host", "local", "--", "echo", "the log"]);
    expect(good.code, good.stderr).toBe(0);
    const [id = ""] = await project.runIds();
    const dir = join(project.dir, ".offload/runs", id);
    // Outside the run folder: attach appended the host's log to it, logs printed it.
    const outside = join(project.dir, "outside.txt");
    await writeFile(outside, "");
    await rm(join(dir, "output.log"));
    await symlink(outside, join(dir, "output.log"));
    await writeFile(join(project.dir, "secret.txt"), "not for the terminal\n");
    await symlink(join(project.dir, "secret.txt"), join(dir, "metrics.jsonl"));
    for (const command of ["attach", "logs", "report"]) {
      const result = await offload(project, [command, id]);
      expect(result.stderr, command).toMatch(
        /E_RUN_DAMAGED: .* (output\.log|metrics\.jsonl) is a symlink/,
      );
      expect(result.stderr, command).toContain("hint");
      expect(result.stdout, command).not.toContain("not for the terminal");
      expect(result.code, command).toBe(200);
    }
    expect(await readFile(outside, "utf8")).toBe("");

    await rm(join(dir, "output.log"));
    await mkdir(join(dir, "output.log"));
    for (const command of ["attach", "logs"]) {
      const result = await offload(project, [command, id]);
      expect(result.stderr, command).toMatch(/E_RUN_DAMAGED: .* output\.log is a folder/);
      expect(result.stderr, command).not.toContain("offload hit a bug");
      expect(result.code, command).toBe(200);
    }
  });
});
