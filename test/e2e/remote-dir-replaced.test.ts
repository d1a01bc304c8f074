// The remote dir replaced by a symlink while the job ran: the download reads from the dir the job
// launched in, by its physical path, and refuses where that now leads elsewhere, instead of bringing
// another dir's files home under the run's name. A remote dir reached through a symlink from the start
// is no such case.
import { mkdir, readdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { startDownloadRun } from "../support/download-run.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

async function artifacts(p: TempProject, id: string): Promise<string[]> {
  return readdir(join(p.dir, ".offload/runs", id, "artifacts")).catch(() => []);
}

describe("a remote dir replaced while the job ran", () => {
  it("is not downloaded from: the run says where it leads now and exits 205", async () => {
    project = await makeProject();
    const p = project;
    await p.write("offload.yaml", "download:\n  - out.txt\n");
    // The job writes its output, moves its dir away and leaves a symlink to a decoy in its place.
    const job = [
      "echo real > out.txt",
      'd=$(pwd -P); mv "$d" "$d.moved"; mkdir "$d.decoy"',
      'echo decoy > "$d.decoy/out.txt"; ln -s "$d.decoy" "$d"',
    ].join("; ");
    const ran = await runInProject(p, ["run", "--host", "local", "--", "sh", "-c", job]);
    expect(ran.code, ran.stderr).toBe(205);
    expect(ran.stderr).toMatch(
      /the dir the run launched in, \S+, now leads to \S+\.decoy \(replaced by a symlink while the job ran\): nothing was fetched from there/,
    );
    const [id = ""] = await p.runIds();
    expect(await artifacts(p, id)).toEqual([]);
    const record = await p.record(id);
    expect(record.status).toBe("succeeded");
    expect(record.error?.code).toBe("E_DOWNLOAD");
    expect(record.outputsPending).toBe(true);
  }, 120_000);

  it("a remote dir that is a symlink from the start downloads as before", async () => {
    project = await makeProject();
    const p = project;
    const real = join(p.home, "real-dir");
    await mkdir(real);
    await symlink(real, join(p.home, "linked-dir"));
    const ran = await startDownloadRun(p, [], {
      config: `remote_dir: ${join(p.home, "linked-dir")}\n`,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const [id = ""] = await p.runIds();
    expect(await artifacts(p, id)).toEqual(["out.txt"]);
    expect(await readFile(join(p.dir, ".offload/runs", id, "artifacts/out.txt"), "utf8")).toBe(
      "made\n",
    );
    expect((await p.record(id)).remote?.realDir).toBe(real);
  }, 120_000);
});
