// A remote login shell that prints on stderr (`printf … >&2` in ~/.bashrc, no newline: the worst case)
// runs before every round trip: what it says must not break the markers offload reads on stderr, nor
// reach the terminal, the job's output.log or an error message.
import { afterEach, expect, it } from "vitest";
import { jsonLines } from "../support/cli.js";
import { useNoisyLogin } from "../support/noisy-login.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const TOKEN = `offload-errnoise-${process.pid}`;
const NOISE_TEXT = "stderr-noise-from-bashrc";

describeWithHosts(
  3,
  "a login shell that prints on stderr",
  (bed) => {
    const host = bed.hosts[2] ?? "offload-h3";
    // Each run of the noise is counted in a file beside it. (shell-noise.test.ts, the stdout case, uses .254.)
    const { offload, inHost } = useNoisyLogin(bed, host, {
      address: "10.200.1.253",
      token: TOKEN,
      noise: `printf '${NOISE_TEXT}' >&2; echo x >> ~/${TOKEN}.count`,
    });
    const noiseRuns = async () =>
      Number((await inHost(`cat ~/${TOKEN}.count 2>/dev/null | wc -l`)).trim());

    it("runs the job once, exits 0, and shows the noise nowhere: not on the terminal, not in output.log", async () => {
      project = await makeProject();
      await project.write("job.sh", "echo job out; echo job err >&2\n");
      const before = await noiseRuns();
      const result = await offload(project, [
        "run",
        "--host",
        `${host}/${TOKEN}-run`,
        "--",
        "sh",
        "job.sh",
      ]);
      // The noise was there: the login shell ran it on this run's round trips.
      expect(await noiseRuns()).toBeGreaterThan(before);
      expect(result.stderr).not.toContain(NOISE_TEXT);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe("job out\njob err\n");
      const [id = ""] = await project.runIds();
      expect((await project.localLog(id)).toString()).toBe("job out\njob err\n");
      expect(await project.record(id)).toMatchObject({ status: "succeeded", exitCode: 0 });
    });

    it("a --no-wait run: started, ps shows it, attach follows it to its end, all without the noise", async () => {
      project = await makeProject();
      await project.write("job.sh", "while [ ! -f release ]; do sleep 0.1; done; echo released\n");
      const remote = `${TOKEN}-nowait`;
      const started = await offload(project, [
        "run",
        "--no-wait",
        "--host",
        `${host}/${remote}`,
        "--",
        "sh",
        "job.sh",
      ]);
      expect(started.stderr).not.toContain(NOISE_TEXT);
      expect(started.code, started.stderr).toBe(0);
      const id = started.stdout.trim();
      const ps = await offload(project, ["ps", "--json"]);
      expect(ps.stderr).not.toContain(NOISE_TEXT);
      expect(jsonLines(ps.stdout).find((line) => line.id === id)).toMatchObject({
        status: "running",
      });
      await inHost(`touch /root/${remote}/release`);
      const attached = await offload(project, ["attach", id]);
      expect(attached.stderr).not.toContain(NOISE_TEXT);
      expect(attached.code, attached.stderr).toBe(0);
      expect(attached.stdout).toBe("released\n");
      expect((await project.localLog(id)).toString()).toBe("released\n");
    });
  },
  { netns: true },
);
