// The dashboard's runs list asks the host how a run recorded as running stands and shows its end in the
// same answer: a --no-wait run that ended while no offload followed it is listed as it ended.
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { startUi } from "../support/ui.js";
import { waitFor } from "../support/wait.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

describe("offload ui runs list", () => {
  it("shows a run that ended unfollowed as the host says it ended, in the first answer", async () => {
    project = await makeProject();
    const started = await runInProject(project, [
      "run",
      "--no-wait",
      "--host",
      "local",
      "--",
      "sh",
      "-c",
      "exit 3",
    ]);
    expect(started.code, started.stderr).toBe(0);
    const [id = ""] = await project.runIds();
    const launched = await project.record(id);
    const exitFile = `${launched.target.remoteDir}/.offload/runs/${id}/exit`;
    await waitFor(() => existsSync(exitFile));
    expect(existsSync(exitFile)).toBe(true);
    // Nothing followed the run: its record still says running until something asks.
    expect((await project.record(id)).status).toBe("running");

    const ui = await startUi(project.dir, [], { env: { HOME: project.home } });
    try {
      const { origin, token } = ui;
      const answer = await fetch(`${origin}/api/runs`, {
        headers: { cookie: `offload-token=${token}` },
      });
      expect(answer.status).toBe(200);
      const { rows } = (await answer.json()) as { rows: { id: string; status: string }[] };
      expect(rows.find((row) => row.id === id)?.status).toBe("failed");
      expect(await project.record(id)).toMatchObject({ status: "failed", exitCode: 3 });
    } finally {
      await ui.stop();
    }
  });
});
