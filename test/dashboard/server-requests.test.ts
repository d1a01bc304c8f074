// `offload ui` answers hostile requests with the right status: no token, a wrong token, a malformed
// escape, a run id that climbs out of the store.
import { rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { startUi } from "../support/ui.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describe("offload ui requests", () => {
  it("refuses without the token, answers 400 to a malformed escape and 404 to a climbing id", async () => {
    project = await makeProject();
    const ui = await startUi(project.dir, [], { env: { HOME: project.home } });
    try {
      const { origin, token } = ui;
      const cookie = { cookie: `offload-token=${token}` };
      expect((await fetch(`${origin}/api/runs`)).status).toBe(403);
      expect((await fetch(`${origin}/api/runs?token=wrong`)).status).toBe(403);
      expect((await fetch(`${origin}/api/runs`, { headers: cookie })).status).toBe(200);
      const malformed = await fetch(`${origin}/api/runs/%E0%A4%A`, { headers: cookie });
      expect(malformed.status).toBe(400);
      const climbing = await fetch(`${origin}/api/runs/..%2F..%2Fetc`, { headers: cookie });
      expect(climbing.status).toBe(404);
    } finally {
      await ui.stop();
    }
  });

  it("never serves what a run's output.log links to: the page says the record is damaged", async () => {
    project = await makeProject();
    const done = await runInProject(project, ["run", "--host", "local", "--", "echo", "the log"]);
    expect(done.code, done.stderr).toBe(0);
    const [id = ""] = await project.runIds();
    const log = join(project.dir, ".offload/runs", id, "output.log");
    await writeFile(join(project.dir, "secret.txt"), "not for the page\n");
    await rm(log);
    await symlink(join(project.dir, "secret.txt"), log);
    const ui = await startUi(project.dir, [], { env: { HOME: project.home } });
    try {
      const stream = await fetch(`${ui.origin}/api/runs/${id}/stream`, {
        headers: { cookie: `offload-token=${ui.token}` },
      });
      const body = await stream.text();
      expect(body).not.toContain("not for the page");
      expect(body).toMatch(/E_RUN_DAMAGED: .* output\.log is a symlink/);
      expect(body).toContain("event: end");
    } finally {
      await ui.stop();
    }
  });
});
