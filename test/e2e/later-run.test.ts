// Runs that share a remote dir write the same paths: a run whose outputs never came home (its offload
// killed, nobody followed it) must not, when attached to later, bring home what a later run in that dir
// left there under its own name. attach fetches nothing, keeps the outputs pending and names that run.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { jsonLines, runInProject } from "../support/cli.js";
import { psUntilEnded } from "../support/download-run.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

async function artifacts(p: TempProject, id: string): Promise<string[]> {
  return (await readdir(join(p.dir, ".offload/runs", id, "artifacts")).catch(() => [])).filter(
    (name) => !name.startsWith(".offload-"),
  );
}

/** `run --host local` of a job that writes `text` into out.txt (the rule in offload.yaml fetches it). */
function writes(text: string, flags: readonly string[] = []): string[] {
  return ["run", ...flags, "--host", "local", "--", "sh", "-c", `echo ${text} > out.txt`];
}

describe("a run attached to after a later run used its remote dir", () => {
  it("downloads nothing, keeps its outputs pending and names the later run", async () => {
    project = await makeProject();
    const p = project;
    await p.write("offload.yaml", "download:\n  - out.txt\n");
    // Run A ends with its outputs on the host, not home.
    const started = await runInProject(p, writes("A", ["--no-wait"]));
    expect(started.code, started.stderr).toBe(0);
    const [a = ""] = await p.runIds();
    const shown = await psUntilEnded((args) => runInProject(p, args), a);
    expect(shown.status).toBe("succeeded");
    expect(shown.outputsPending).toBe(true);

    // Run B, in the same remote dir, rewrites out.txt and brings its own home.
    const ranB = await runInProject(p, writes("B"));
    expect(ranB.code, ranB.stderr).toBe(0);
    const b = (await p.runIds()).find((id) => id !== a) ?? "";
    expect(await readFile(join(p.dir, ".offload/runs", b, "artifacts/out.txt"), "utf8")).toBe(
      "B\n",
    );

    const attached = await runInProject(p, ["attach", a]);
    expect(attached.code, attached.stderr).toBe(205);
    expect(attached.stderr).toContain(`Run ${a}'s outputs were not downloaded: run ${b} has used`);
    expect(attached.stderr).toContain(`\`offload attach ${b}\``);
    expect(await artifacts(p, a)).toEqual([]);
    const record = await p.record(a);
    expect(record.status).toBe("succeeded");
    expect(record.outputsPending).toBe(true);
    expect(record.error?.code).toBe("E_DOWNLOAD");

    const json = await runInProject(p, ["attach", a, "--json"]);
    expect(json.code, json.stderr).toBe(205);
    const failed = jsonLines(json.stdout).find((event) => event.type === "outputs-failed");
    expect(failed?.code).toBe("E_DIR_REUSED");
    expect(await artifacts(p, a)).toEqual([]);

    // B, the dir's latest run, still downloads (again) as before.
    const again = await runInProject(p, ["attach", b]);
    expect(again.code, again.stderr).toBe(0);
  }, 120_000);

  it("keeps what a finished run brought home, and its record, when attached to after a later run", async () => {
    project = await makeProject();
    const p = project;
    await p.write("offload.yaml", "download:\n  - out.txt\n");
    const ranA = await runInProject(p, writes("A"));
    expect(ranA.code, ranA.stderr).toBe(0);
    const [a = ""] = await p.runIds();
    const ranB = await runInProject(p, writes("B"));
    expect(ranB.code, ranB.stderr).toBe(0);

    const attached = await runInProject(p, ["attach", a]);
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stderr).toContain(`Run ${a}'s outputs were not downloaded`);
    expect(await readFile(join(p.dir, ".offload/runs", a, "artifacts/out.txt"), "utf8")).toBe(
      "A\n",
    );
    const record = await p.record(a);
    expect(record.status).toBe("succeeded");
    expect(record.outputsPending).toBeUndefined();
    expect(record.error).toBeUndefined();
  }, 120_000);
});
