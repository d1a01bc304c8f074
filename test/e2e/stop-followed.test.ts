// `offload stop` while another offload on this machine follows the run (an `attach` in a second
// terminal): the stop signals the job and leaves the end to that follower, which records it. The
// follower is held still (SIGSTOP) while the stop runs, so it is surely following when the stop looks.
import { afterEach, describe, expect, it } from "vitest";
import { type CliResult, jsonLines, runCli, runInProject } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

/** `run --no-wait`, then an `attach` that follows it, resolved once the attach has printed the job's line. */
async function startFollowed(
  p: TempProject,
): Promise<{ id: string; pid: number; following: Promise<CliResult> }> {
  const started = await runInProject(p, [
    "run",
    "--no-wait",
    "--host",
    "local",
    "--",
    "sh",
    "-c",
    "echo job-up; sleep 60",
  ]);
  expect(started.code, started.stderr).toBe(0);
  const id = started.stdout.trim();
  let attached!: () => void;
  const printed = new Promise<void>((resolve) => {
    attached = resolve;
  });
  let seen = "";
  let pid = 0;
  const following = runCli(["attach", id], {
    cwd: p.dir,
    env: { HOME: p.home },
    onSpawn: (spawned) => {
      pid = spawned;
    },
    onStdout: (text) => {
      seen += text;
      if (seen.includes("job-up")) attached();
    },
  });
  await Promise.race([printed, following]);
  process.kill(pid, "SIGSTOP");
  return { id, pid, following };
}

describe("offload stop on a run another offload follows", () => {
  it("signals the job and leaves the end to the follower, which records it once (--json)", async () => {
    const p = await makeProject();
    project = p;
    const { id, pid, following } = await startFollowed(p);

    const stopped = await runInProject(p, ["stop", "--json"]).finally(() =>
      process.kill(pid, "SIGCONT"),
    );
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(jsonLines(stopped.stdout)).toEqual([
      { runId: id, outcome: "stopped", status: "running", exitCode: null },
    ]);

    const attach = await following;
    // The job's own exit code on TERM: 128 + 15.
    expect(attach.code, attach.stderr).toBe(143);
    expect((await p.record(id)).exitCode).toBe(143);
    // One follower appended the log: the job's line is in it once (sh adds its own "Terminated").
    expect((await p.localLog(id)).toString("utf8").split("job-up").length - 1).toBe(1);
  });

  it("says in words who records the end", async () => {
    const p = await makeProject();
    project = p;
    const { id, pid, following } = await startFollowed(p);
    const stopped = await runInProject(p, ["stop", id]).finally(() => process.kill(pid, "SIGCONT"));
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain(`run ${id} stopped\n`);
    expect(stopped.stderr).toContain(`the offload following run ${id} records its end.\n`);
    expect((await following).code).toBe(143);
  });
});
