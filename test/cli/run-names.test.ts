// `run --name/--tag`: recorded in run.json, shown by ps, and usable wherever a run id is.
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const offload = runInProject;

describe("named and tagged runs", () => {
  it("records name and tags, lists them in ps, and resolves a name to its latest run", async () => {
    project = await makeProject();
    await project.write("say.sh", 'echo "said $1"\n');
    const first = await offload(project, [
      "run",
      "--host",
      "local",
      "--name",
      "baseline",
      "--tag",
      "lr=0.1",
      "--tag",
      "data=v2",
      "--",
      "sh",
      "say.sh",
      "one",
    ]);
    expect(first.code).toBe(0);
    const second = await offload(project, [
      "run",
      "--host",
      "local",
      "--name",
      "baseline",
      "--",
      "sh",
      "say.sh",
      "two",
    ]);
    expect(second.code).toBe(0);
    // Two runs may start within one second, where ids do not say which came first: startedAt does.
    const ids = await project.runIds();
    const records = await Promise.all(ids.map((id) => project?.record(id)));
    const [id1, id2] = records
      .sort((a, b) => Date.parse(a?.startedAt ?? "") - Date.parse(b?.startedAt ?? ""))
      .map((r) => r?.id);
    if (!id1 || !id2) throw new Error("two runs expected");
    expect(await project.record(id1)).toMatchObject({
      name: "baseline",
      tags: { lr: "0.1", data: "v2" },
    });
    expect((await project.record(id2)).tags).toBeUndefined();

    const ps = await offload(project, ["ps", "--offline"]);
    expect(ps.code).toBe(0);
    const [header, ...rows] = ps.stdout.split("\n");
    const row1 = rows.find((row) => row.startsWith(id1));
    expect(header).toMatch(/^RUN\s+NAME\s+TARGET\s+STATUS\s+EXIT\s+TIME\s+TAGS\s+COMMAND$/);
    expect(row1).toMatch(
      new RegExp(
        `^${id1}\\s+baseline\\s+local\\s+succeeded\\s+0\\s+\\S+\\s+lr=0\\.1,data=v2\\s+sh say\\.sh one$`,
      ),
    );

    // The name is the latest run of that name.
    const logs = await offload(project, ["logs", "baseline"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe("said two\n");
    // An id still wins, and `report` takes a name too.
    expect((await offload(project, ["logs", id1])).stdout).toBe("said one\n");
    const report = await offload(project, ["report", "--json", "baseline"]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(id2);
    expect(report.stdout).not.toContain(id1);
  });

  it.each([
    ["a/b", "contains a slash"],
    ["tab\there", "contains a control character"],
    ["", "is empty"],
  ])("refuses the name %j before starting anything (exit 2)", async (name, why) => {
    project = await makeProject();
    const result = await offload(project, ["run", "--host", "local", "--name", name, "--", "true"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(why);
    expect(await project.runIds()).toEqual([]);
  });

  it("refuses a tag that is not KEY=VALUE (exit 2)", async () => {
    project = await makeProject();
    const result = await offload(project, ["run", "--host", "local", "--tag", "lr", "--", "true"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not KEY=VALUE");
    expect(await project.runIds()).toEqual([]);
    const tab = await offload(project, ["run", "--host", "local", "--tag", "v=a\tb", "--", "true"]);
    expect(tab.code).toBe(2);
    expect(tab.stderr).toContain('--tag "v=a\\tb" contains a control character.');
    expect(await project.runIds()).toEqual([]);
  });

  it("says no run matches a name nobody gave (exit 200)", async () => {
    project = await makeProject();
    await offload(project, ["run", "--host", "local", "--name", "x", "--", "true"]);
    const result = await offload(project, ["logs", "nope"]);
    expect(result.stderr).toContain("No run matches `nope`");
    expect(result.code).toBe(200);
  });
});
