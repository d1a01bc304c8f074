// Slurm jobs at their edges, as a new user met them: a rank that fails among several, a site's
// `--export=NONE`, a line printed without its newline, and the job's log removed while it
// runs.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import type { TempProject } from "../support/project.js";
import { waitFor } from "../support/wait.js";
import { describeWithSlurm } from "./cluster/describe.js";
import { slurmProjects } from "./cluster/project.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

/** Waits for a `release` file in the remote dir (the job's cwd), then goes on. */
const GATE = "while [ ! -f release ]; do sleep 0.2; done";

describeWithSlurm("Slurm jobs at their edges", (cluster) => {
  const projects = slurmProjects(cluster, "edges");
  const { offload } = projects;
  let serial = 0;
  /** A project with its remote dir, which the test reaches directly (the shared file system). */
  async function make(slurm: string) {
    serial += 1;
    const p = await projects.make(`slurm:\n${slurm}`);
    project = p;
    const remoteDir = join(cluster().workDir, `edges-${process.pid}-${serial}`);
    return { p, remoteDir };
  }

  it("a 2-node job whose rank 1 exits 3 ends with 3, not the 143 of the rank srun then killed", async () => {
    const { p } = await make("  nodes: 2\n");
    const result = await offload(p, [
      "run",
      "--",
      "sh",
      "-c",
      '[ "$RANK" = 1 ] && exit 3; sleep 60',
    ]);
    expect(result.code, result.stderr).toBe(3);
    const [id = ""] = await p.runIds();
    expect(await p.record(id)).toMatchObject({ status: "failed", exitCode: 3 });
  });

  it("sbatch --export=NONE (a site's default) still gives the tasks the run's env and a PATH", async () => {
    const { p } = await make("  nodes: 1\n  args: [--export=NONE]\n");
    await p.write("offload.yaml", `env:\n  MY_SETTING: kept\n${readYaml(p)}`);
    const result = await offload(p, ["run", "--", "sh", "-c", 'echo "$MY_SETTING $RANK"']);
    expect({ code: result.code, stdout: result.stdout }, result.stderr).toEqual({
      code: 0,
      stdout: "kept 0\n",
    });
  });

  it("a line shows before its newline (a progress bar redrawn with \\r), not only once it ends", async () => {
    const { p, remoteDir } = await make("  nodes: 1\n");
    let stdout = "";
    const running = offload(
      p,
      ["run", "--", "sh", "-c", `printf 'step 1/2\\r'; ${GATE}; echo done`],
      {
        onStdout: (text) => {
          stdout += text;
        },
      },
    );
    await waitFor(() => stdout.includes("step 1/2"));
    const seen = stdout;
    writeFileSync(join(remoteDir, "release"), "");
    const result = await running;
    expect({ seen, code: result.code }, result.stderr).toEqual({ seen: "step 1/2\r", code: 0 });
    expect(result.stdout).toBe("step 1/2\rdone\n");
  });

  it("the job's output.log removed while it runs: every later line still arrives", async () => {
    const { p, remoteDir } = await make("  nodes: 1\n");
    let stdout = "";
    const running = offload(p, ["run", "--", "sh", "-c", `echo one; ${GATE}; echo two`], {
      onStdout: (text) => {
        stdout += text;
      },
    });
    await waitFor(() => stdout.includes("one"));
    const runs = join(remoteDir, ".offload/runs");
    for (const id of readdirSync(runs)) rmSync(join(runs, id, "output.log"), { force: true });
    writeFileSync(join(remoteDir, "release"), "");
    const result = await running;
    expect({ code: result.code, stdout: result.stdout }, result.stderr).toEqual({
      code: 0,
      stdout: "one\ntwo\n",
    });
  });
});

function readYaml(p: TempProject): string {
  return readFileSync(join(p.dir, "offload.yaml"), "utf8");
}
