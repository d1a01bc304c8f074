// `ps` and `report` of finished runs start no process, so they do not load node:child_process (~6 ms:
// commander's, the transports'); `ps` does not load node:crypto either (~6 ms: the run id maker's;
// `report` reads the settings, whose default remote dir is a hash). Proven on the installed entry point
// by Node's own list of the built-in modules it loaded.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRunStore } from "../../src/runs/store.js";
import { REPO } from "../support/project.js";
import { makeRecord } from "../support/record.js";

const run = promisify(execFile);
const BIN = join(REPO, "bin", "offload.js");
const built = existsSync(join(REPO, "dist", "offload.cjs"));
if (!built)
  process.stderr.write(
    "[ps-lean] skipping: dist/offload.cjs is missing (npm run build makes it)\n",
  );

let project = "";
beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), "offload-ps-lean-"));
  const store = openRunStore(project);
  for (const id of ["20261201-100000-aaaa", "20261201-100001-bbbb"])
    await store.save(makeRecord({ id, status: "succeeded", startedAt: new Date().toISOString() }));
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** The built-in modules `offload <command>` loaded, as Node lists them at exit. */
async function loadedBuiltins(command: string): Promise<string[]> {
  const list = join(project, `${command}.modules`);
  const hook = join(project, "hook.cjs");
  writeFileSync(
    hook,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`,
  );
  const { stdout } = await run(process.execPath, ["-r", hook, BIN, command], {
    cwd: project,
    env: { ...process.env, XDG_CACHE_HOME: join(project, "cache") },
  });
  expect(stdout).toContain("20261201-100001-bbbb");
  return readFileSync(list, "utf8")
    .split("\n")
    .filter((m) => m.startsWith("NativeModule "))
    .map((m) => m.slice("NativeModule ".length));
}

describe.skipIf(!built)("ps and report of finished runs", () => {
  it("ps loads neither child_process nor crypto", async () => {
    const loaded = await loadedBuiltins("ps");
    expect(loaded).toContain("fs");
    expect(loaded).not.toContain("child_process");
    expect(loaded).not.toContain("crypto");
  });

  it("report loads no child_process", async () => {
    const loaded = await loadedBuiltins("report");
    expect(loaded).toContain("fs");
    expect(loaded).not.toContain("child_process");
  });
});
