// `offload ui` answers hostile requests with the right status: no token, a wrong token, a malformed
// escape, a run id that climbs out of the store.
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describe("offload ui requests", () => {
  it("refuses without the token, answers 400 to a malformed escape and 404 to a climbing id", async () => {
    project = await makeProject();
    let printed = "";
    let pid: number | undefined;
    const done = runCli(["ui"], {
      cwd: project.dir,
      env: { HOME: project.home },
      onSpawn: (spawned) => {
        pid = spawned;
      },
      onStdout: (text) => {
        printed += text;
      },
    });
    try {
      for (let i = 0; i < 300 && !printed.includes("\n"); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const match = /offload ui: (http:\/\/127\.0\.0\.1:[0-9]+)\/\?token=([A-Za-z0-9_-]+)/.exec(
        printed,
      );
      expect(match, printed).not.toBeNull();
      const [, origin = "", token = ""] = match ?? [];
      const cookie = { cookie: `offload-token=${token}` };
      expect((await fetch(`${origin}/api/runs`)).status).toBe(403);
      expect((await fetch(`${origin}/api/runs?token=wrong`)).status).toBe(403);
      expect((await fetch(`${origin}/api/runs`, { headers: cookie })).status).toBe(200);
      const malformed = await fetch(`${origin}/api/runs/%E0%A4%A`, { headers: cookie });
      expect(malformed.status).toBe(400);
      const climbing = await fetch(`${origin}/api/runs/..%2F..%2Fetc`, { headers: cookie });
      expect(climbing.status).toBe(404);
    } finally {
      if (pid !== undefined) process.kill(pid, "SIGTERM");
      await done;
    }
  });
});
