// A run whose outputs never came home says so: an offload killed with -9 during the download, or a run
// nobody followed to its end, is not listed as plainly done; `attach` brings the outputs home.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { jsonLines, runInProject } from "../support/cli.js";
import { psUntilEnded, startDownloadRun } from "../support/download-run.js";
import { makeProject, type TempProject } from "../support/project.js";
import { waitFor } from "../support/wait.js";

let project: TempProject | undefined;
let gate: string | undefined;
afterEach(async () => {
  // Lets a held rsync go on (the guardian has normally ended it with its offload).
  if (gate !== undefined) await writeFile(`${gate}.go`, "").catch(() => {});
  await project?.remove();
  project = undefined;
  gate = undefined;
});

async function artifacts(p: TempProject, id: string): Promise<string[]> {
  return (await readdir(join(p.dir, ".offload/runs", id, "artifacts")).catch(() => [])).filter(
    (name) => !name.startsWith(".offload-"),
  );
}

describe("outputs not home", () => {
  it("kill -9 during the download: ps says the outputs are on the host, attach fetches them", async () => {
    project = await makeProject();
    const p = project;
    const realRsync = execFileSync("sh", ["-c", "command -v rsync"], { encoding: "utf8" }).trim();
    const bin = join(p.home, "bin");
    gate = join(p.home, "gate");
    // The real rsync, held at the download (its destination is the run's artifacts folder) until the
    // test says go: the test kills offload there.
    await p.write(
      "../home/bin/rsync",
      `#!/bin/sh\ncase "$*" in *"/artifacts"*) touch ${gate}.started; while [ ! -f ${gate}.go ]; do sleep 0.1; done ;; esac\nexec ${realRsync} "$@"\n`,
    );
    execFileSync("chmod", ["+x", join(bin, "rsync")]);
    let pid: number | undefined;
    const killed = startDownloadRun(p, [], {
      config: "sync:\n  tool: rsync\n",
      options: {
        env: { PATH: `${bin}:${process.env.PATH ?? ""}` },
        onSpawn: (spawned) => {
          pid = spawned;
        },
      },
    });
    await waitFor(() => existsSync(`${gate}.started`));
    expect(existsSync(`${gate}.started`), "the download never started").toBe(true);
    process.kill(pid ?? 0, "SIGKILL");
    expect((await killed).code).toBe(137);
    const [id = ""] = await p.runIds();
    expect(await artifacts(p, id)).toEqual([]);

    const listed = await runInProject(p, ["ps", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const [shown] = jsonLines(listed.stdout);
    expect(shown.status).toBe("succeeded");
    expect(shown.outputsPending).toBe(true);
    const table = await runInProject(p, ["ps"]);
    expect(table.stdout).toContain("succeeded (outputs not home)");
    expect(table.stderr).toContain(
      `run ${id}: its outputs are still on local: \`offload attach ${id}\` brings them home.`,
    );

    await writeFile(`${gate}.go`, "");
    const attached = await runInProject(p, ["attach", id]);
    expect(attached.code, attached.stderr).toBe(0);
    expect(await artifacts(p, id)).toEqual(["out.txt"]);
    const record = await p.record(id);
    expect(record.status).toBe("succeeded");
    expect(record.outputsPending).toBeUndefined();
    expect((await runInProject(p, ["ps"])).stdout).not.toContain("outputs not home");
  }, 120_000);

  it("a --no-wait run that ended: ps records its outputs as not home until attach fetches them", async () => {
    project = await makeProject();
    const p = project;
    const started = await startDownloadRun(p, ["--no-wait"]);
    expect(started.code, started.stderr).toBe(0);
    const [id = ""] = await p.runIds();
    const shown = await psUntilEnded((args) => runInProject(p, args), id);
    expect(shown.status).toBe("succeeded");
    expect(shown.outputsPending).toBe(true);
    expect((await p.record(id)).outputsPending).toBe(true);

    const attached = await runInProject(p, ["attach", id]);
    expect(attached.code, attached.stderr).toBe(0);
    expect(await artifacts(p, id)).toEqual(["out.txt"]);
    expect((await p.record(id)).outputsPending).toBeUndefined();
  }, 120_000);

  it("a run followed to its end records no pending outputs", async () => {
    project = await makeProject();
    const p = project;
    const ran = await startDownloadRun(p);
    expect(ran.code, ran.stderr).toBe(0);
    const [id = ""] = await p.runIds();
    expect((await p.record(id)).outputsPending).toBeUndefined();
    expect(await artifacts(p, id)).toEqual(["out.txt"]);
  }, 120_000);
});
