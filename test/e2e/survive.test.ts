// Runs survive everything: Ctrl+C, stop, --force, a killed local process, lock contention, and real
// network faults (link cut, packets dropped, ssh session killed) while the log streams.
import { execFileSync } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import {
  cutLink,
  describeWithHosts,
  dropHost,
  execInHost,
  healLink,
  killSessions,
  leaseFaultHost,
  processesInHost,
  undropHost,
} from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A job that prints numbered lines: `line 000001` … then exits with `code`. */
function countingJob(lines: number, pause: string, code: number): string {
  return `i=1; while [ $i -le ${lines} ]; do printf 'line %06d\\n' $i; i=$((i + 1)); sleep ${pause}; done; exit ${code}`;
}

function expectedLines(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `line ${String(i + 1).padStart(6, "0")}\n`).join(
    "",
  );
}

/** mulberry32: a seeded PRNG, so a failing fault schedule can be replayed with OFFLOAD_FAULT_SEED. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeWithHosts(
  3,
  "runs survive faults and interruptions",
  (bed) => {
    // Calm h2 is shared with other files; a test that faults a host leases one of the pool's.
    const [, calm = "offload-h2"] = bed.hosts;
    const sshCat = (host: string, path: string) =>
      execFileSync("ssh", ["-F", bed.sshConfig, "-o", "ConnectTimeout=5", host, `cat '${path}'`]);
    const offload = (
      p: TempProject,
      args: string[],
      extra: Parameters<typeof runCli>[1] extends infer O ? Partial<O> : never = {},
    ) =>
      runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        ...extra,
      });
    const jobProcesses = (host: string, marker: string) =>
      processesInHost(host).filter((proc) => proc.cmdline.includes(marker));

    it("loses and repeats no line through 21 seeded faults of three kinds", async () => {
      const faulty = await leaseFaultHost();
      project = await makeProject();
      await project.write(
        "offload.yaml",
        "ssh:\n  keepalive: 1\n  connect_timeout: 3\nreconnect:\n  timeout: 120\n",
      );
      const lines = 1500;
      // The job ends only when the test says so: the 21 faults all land while it runs, however fast
      // the lines go on a machine that is idle or slow.
      await project.write(
        "count.sh",
        countingJob(lines, "0.03", 5).replace(
          /; exit 5$/,
          "; while [ ! -e release ]; do sleep 0.1; done; exit 5",
        ),
      );
      const remote = `survive-faults-${process.pid}`;
      let finished = false;
      let seen = "";
      const running = offload(
        project,
        ["run", "--host", `${faulty}/${remote}`, "--", "sh", "count.sh"],
        {
          timeoutMs: 230_000,
          onStdout: (text) => {
            seen += text;
          },
        },
      ).finally(() => {
        finished = true;
      });
      const random = seededRandom(Number(process.env.OFFLOAD_FAULT_SEED ?? 20261125));
      const kinds = ["cut", "drop", "kill"] as const;
      let faults = 0;
      // Faults start once the log streams: a fault in the launch window is launch-paths.test.ts's subject
      // (a launch cut short starts nothing and says so), not this test's.
      for (let i = 0; i < 600 && !seen.includes("line 000001") && !finished; i++) await sleep(100);
      while (faults < 21 && !finished) {
        const kind = kinds[faults % 3] ?? "kill";
        const outage = 400 + random() * 1200;
        if (kind === "cut") {
          await cutLink(faulty);
          await sleep(outage);
          await healLink(faulty);
        } else if (kind === "drop") {
          await dropHost(faulty);
          await sleep(outage);
          await undropHost(faulty);
        } else {
          await killSessions(faulty);
        }
        faults += 1;
        await sleep(300 + random() * 900);
      }
      expect((await execInHost(faulty, ["touch", `/root/${remote}/release`])).code).toBe(0);
      const result = await running;
      // On an early end, say how offload ended: the fault count alone tells nothing.
      expect(faults, `offload ended early (${result.code}):\n${result.stderr}`).toBe(21);
      expect(result.stderr).toContain("reconnecting");
      expect(result.code).toBe(5);
      const [id] = await project.runIds();
      const record = await project.record(id ?? "");
      const local = await project.localLog(id ?? "");
      expect(local.toString()).toBe(expectedLines(lines));
      expect(
        local.equals(sshCat(faulty, `${record.target.remoteDir}/.offload/runs/${id}/output.log`)),
      ).toBe(true);
      expect(record).toMatchObject({ status: "failed", exitCode: 5 });
    }, 240_000);

    it("a Ctrl+C stops the whole job on the host, runs shutdown commands, and keeps the log", async () => {
      project = await makeProject();
      const marker = `sleep 7${process.pid % 1000}1`;
      await project.write("offload.yaml", "shutdown:\n  - echo shutdown ran\n");
      await project.write(
        "job.sh",
        `${marker.replace("sleep", "sleep")} & ${marker} &\necho started\nwhile :; do sleep 0.2; done\n`,
      );
      let pid = 0;
      const running = offload(
        project,
        ["run", "--host", `${calm}/survive-int-${process.pid}`, "--", "sh", "job.sh"],
        {
          onSpawn: (p) => {
            pid = p;
          },
        },
      );
      for (let i = 0; i < 100 && jobProcesses(calm, marker).length < 2; i++) await sleep(100);
      expect(jobProcesses(calm, marker).length).toBe(2);
      process.kill(pid, "SIGINT");
      const result = await running;
      expect(result.stderr).toContain("stopping run");
      expect(result.code).toBe(143);
      expect(jobProcesses(calm, marker)).toEqual([]);
      expect(result.stdout).toContain("started\n");
      expect(result.stdout).toContain("shutdown ran\n");
      const [id] = await project.runIds();
      expect(await project.record(id ?? "")).toMatchObject({
        status: "stopped",
        exitCode: 143,
        stopRequested: true,
      });
    });

    it("a second Ctrl+C leaves at once, the host finishes the stop, and attach records the end", async () => {
      project = await makeProject();
      const marker = `sleep 6${process.pid % 1000}4`;
      await project.write(
        "job.sh",
        `trap '' TERM\n${marker} &\nwhile :; do echo tick; sleep 0.2; done\n`,
      );
      let pid = 0;
      const running = offload(
        project,
        ["run", "--host", `${calm}/survive-int2-${process.pid}`, "--", "sh", "job.sh"],
        {
          onSpawn: (p) => {
            pid = p;
          },
        },
      );
      for (let i = 0; i < 100 && jobProcesses(calm, marker).length < 1; i++) await sleep(100);
      process.kill(pid, "SIGINT");
      await sleep(300);
      process.kill(pid, "SIGINT");
      const result = await running;
      expect(result.code).toBe(130);
      expect(result.stderr).toContain("E_INTERRUPTED");
      expect(result.stderr).toMatch(/offload attach \S+/);
      const [id = ""] = await project.runIds();
      // The job ignores TERM: it lives until the stop's grace period ends and KILL comes.
      const attached = await offload(project, ["attach", id]);
      expect(attached.code).toBe(137);
      expect(jobProcesses(calm, marker)).toEqual([]);
    });

    it("gives up after the reconnect timeout with a documented code, and attach finishes the run later", async () => {
      const faulty = await leaseFaultHost();
      project = await makeProject();
      await project.write(
        "offload.yaml",
        "ssh:\n  keepalive: 1\n  connect_timeout: 5\nreconnect:\n  timeout: 4\n",
      );
      const lines = 200;
      await project.write("count.sh", countingJob(lines, "0.05", 0));
      let seen = "";
      let ended: string | undefined;
      const running = offload(
        project,
        ["run", "--host", `${faulty}/survive-giveup-${process.pid}`, "--", "sh", "count.sh"],
        {
          onStdout: (text) => {
            seen += text;
          },
        },
      ).then((result) => {
        ended = `offload ended (${result.code}) before the drop:\n${result.stderr}`;
        return result;
      });
      // Under load (CI, 2 cores) prepare + sync + launch can take over 10 s: a drop before the launch
      // is a different case (E_HOST_UNREACHABLE, nothing started), so wait for the job's output.
      for (let i = 0; i < 600 && !seen.includes("line 000010") && !ended; i++) await sleep(100);
      expect(seen, ended ?? "the job's output never arrived before the drop").toContain(
        "line 000010",
      );
      await dropHost(faulty);
      let result: Awaited<typeof running>;
      try {
        result = await running;
      } finally {
        await undropHost(faulty);
      }
      expect(result.code, result.stderr).toBe(201);
      expect(result.stderr).toContain("E_DISCONNECTED");
      expect(result.stderr).toMatch(/offload attach \S+/);
      const [id = ""] = await project.runIds();
      const attached = await offload(project, ["attach", id]);
      expect(attached.code).toBe(0);
      expect((await project.localLog(id)).toString()).toBe(expectedLines(lines));
    });

    it("`offload stop` ends a detached run, TERM then KILL for a process that ignores TERM", async () => {
      project = await makeProject();
      const marker = `sleep 8${process.pid % 1000}2`;
      await project.write("job.sh", `trap '' TERM\n${marker} &\nwhile :; do sleep 0.2; done\n`);
      const started = await offload(project, [
        "run",
        "--no-wait",
        "--host",
        `${calm}/survive-stop-${process.pid}`,
        "--",
        "sh",
        "job.sh",
      ]);
      expect(started.code).toBe(0);
      const id = started.stdout.trim();
      for (let i = 0; i < 100 && jobProcesses(calm, marker).length < 1; i++) await sleep(100);
      expect(jobProcesses(calm, marker).length).toBe(1);
      const stopped = await offload(project, ["stop", id]);
      expect(stopped.stderr).toContain(`run ${id} stopped`);
      expect(jobProcesses(calm, marker)).toEqual([]);
      // Like a Ctrl+C in `run`, the stop records the end here, with no attach needed.
      expect(stopped.stderr).toContain(`run ${id} stopped (exit 137)`);
      expect(await project.record(id)).toMatchObject({ status: "stopped", exitCode: 137 });
      const attached = await offload(project, ["attach", id]);
      expect(attached.code).toBe(137);
    });

    it("refuses a second run on a busy remote dir, reclaims a dead lock, and --force takes over", async () => {
      project = await makeProject();
      const remote = `${calm}/survive-lock-${process.pid}`;
      const marker = `sleep 9${process.pid % 1000}3`;
      const first = await offload(project, ["run", "--no-wait", "--host", remote, "--", marker]);
      const firstId = first.stdout.trim();
      const refused = await offload(project, ["run", "--host", remote, "--", "true"]);
      expect(refused.code).toBe(202);
      expect(refused.stderr).toContain(`E_LOCKED`);
      expect(refused.stderr).toContain(`in use by run ${firstId} (since `);
      expect(refused.stderr).toContain("--force");

      const forced = await offload(project, [
        "run",
        "--force",
        "--host",
        remote,
        "--",
        "echo",
        "mine now",
      ]);
      expect(forced.code).toBe(0);
      expect(forced.stderr).toContain(`--force: stopped run ${firstId}`);
      expect(forced.stdout).toBe("mine now\n");
      expect(jobProcesses(calm, marker)).toEqual([]);

      // A launcher killed with -9 leaves its lock behind: the next run reclaims it and says so.
      const doomed = await offload(project, ["run", "--no-wait", "--host", remote, "--", marker]);
      const doomedId = doomed.stdout.trim();
      const record = await project.record(doomedId);
      for (let i = 0; i < 50 && jobProcesses(calm, marker).length < 1; i++) await sleep(100);
      for (const proc of processesInHost(calm))
        if (proc.pid === record.remote?.launcherPid || proc.cmdline.includes(marker))
          process.kill(proc.pid, "SIGKILL");
      const next = await offload(project, ["run", "--host", remote, "--", "true"]);
      expect(next.code).toBe(0);
      expect(next.stderr).toContain(`reclaimed the remote dir's lock from run ${doomedId}`);
    });

    it("--no-wait, a killed local offload, and attach give the same complete log; one follower at a time", async () => {
      project = await makeProject();
      const lines = 120;
      // Half the lines, then a wait for the test's release, then the rest: the first attach still
      // follows when the second asks, however long a loaded machine takes to start the second.
      const half = countingJob(lines / 2, "0.05", 0).replace(/; exit 0$/, "");
      await project.write(
        "count.sh",
        `${half}; while [ ! -e release ]; do sleep 0.1; done; ${countingJob(lines, "0.05", 0).replace("i=1;", `i=${lines / 2 + 1};`)}`,
      );
      const remoteDir = `survive-attach-${process.pid}`;
      const started = await offload(project, [
        "run",
        "--no-wait",
        "--host",
        `${calm}/${remoteDir}`,
        "--",
        "sh",
        "count.sh",
      ]);
      const id = started.stdout.trim();
      let pid = 0;
      let seen = "";
      const first = offload(project, ["attach", id], {
        onSpawn: (p) => {
          pid = p;
        },
        onStdout: (text) => {
          seen += text;
        },
      });
      for (let i = 0; i < 600 && !seen.includes("line 000020"); i++) await sleep(100);
      expect(seen, "the job's output never arrived").toContain("line 000020");
      // One follower at a time: a second would append the same bytes to the log again.
      const meanwhile = await offload(project, ["attach", id]);
      expect(meanwhile.code).toBe(202);
      expect(meanwhile.stderr).toContain(
        `being followed by another offload on this machine (pid ${pid})`,
      );
      process.kill(pid, "SIGKILL");
      await first;
      const partial = (await project.localLog(id)).length;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(expectedLines(lines).length);
      expect((await execInHost(calm, ["touch", `/root/${remoteDir}/release`])).code).toBe(0);
      const second = await offload(project, ["attach", id]);
      expect(second.code).toBe(0);
      expect((await project.localLog(id)).toString()).toBe(expectedLines(lines));
      expect(await project.record(id)).toMatchObject({ status: "succeeded", exitCode: 0 });
    });
  },
  { netns: true },
);
