// Trust on every path: `stop` signals only the run's own processes, a crafted run id runs nothing on the
// host, a run displaced by --force says so, `ps` asks the hosts and tells the truth, `stop` with nothing
// running says so, and `ps` keeps each run on one line.
import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/runs/record.js";
import { jsonLines, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, processesInHost } from "../testbed/index.js";

let project: TempProject | undefined;
const strays: number[] = [];
afterEach(async () => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await project?.remove();
  project = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithHosts(
  2,
  "trust on every path (test bed)",
  (bed) => {
    // h1 serves ssh.test.ts; h2 is shared with survive.test.ts, each test in a remote dir of its own.
    const host = bed.hosts[1] ?? "offload-h2";
    const ssh = (command: string) =>
      execFileSync("ssh", ["-F", bed.sshConfig, "-o", "ConnectTimeout=5", host, command], {
        encoding: "utf8",
      });
    const offload = (
      p: TempProject,
      args: string[],
      extra: { onStdout?: (text: string) => void } = {},
    ) =>
      runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        ...extra,
      });
    const running = (pid: number) => processesInHost(host).some((proc) => proc.pid === pid);
    const jobProcesses = (marker: string) =>
      processesInHost(host).filter((proc) => proc.cmdline.includes(marker));
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 100 && !check(); i++) await sleep(100);
    };
    const runDirOf = (record: RunRecord) => `${record.target.remoteDir}/.offload/runs/${record.id}`;

    it("`offload stop` never signals a group its pid file names that is not the run's", async () => {
      project = await makeProject();
      const marker = `sleep 7${process.pid % 1000}5`;
      await project.write("job.sh", `${marker} &\nwhile :; do sleep 0.2; done\n`);
      const started = await offload(project, [
        "run",
        "--no-wait",
        "--host",
        `${host}/trust-stop-${process.pid}`,
        "--",
        "sh",
        "job.sh",
      ]);
      expect(started.code, started.stderr).toBe(0);
      const id = started.stdout.trim();
      const runDir = runDirOf(await project.record(id));
      await waitFor(() => jobProcesses(marker).length > 0);
      // An unrelated process on the host, leading a session and group of its own.
      const other = Number(
        ssh(`setsid sleep 30${process.pid % 1000}7 </dev/null >/dev/null 2>&1 & echo $!`).trim(),
      );
      strays.push(other);
      expect(running(other)).toBe(true);
      const saved = ssh(`cat '${runDir}/pid'`).trim();
      // Pid 1 is tested in a PID namespace (test/remote/stop-proof.test.ts): this bed shares the
      // machine's PID space, where a regression would signal every process.
      for (const content of [`${other}`, `${other} 12345`, "garbage;x"]) {
        ssh(`printf '%s\\n' '${content}' > '${runDir}/pid'`);
        const refused = await offload(project, ["stop", id]);
        expect(refused.code).toBe(200);
        expect(refused.stderr).toContain("E_STOP_REFUSED");
        expect(refused.stderr).toContain("Nothing was stopped");
        expect(refused.stderr).not.toContain(`run ${id} stopped`);
        expect(running(other)).toBe(true);
        expect(jobProcesses(marker).length).toBe(1);
        expect((await project.record(id)).status).toBe("running");
      }
      ssh(`printf '%s\\n' '${saved}' > '${runDir}/pid'`);
      const stopped = await offload(project, ["stop", "--json", id]);
      expect(stopped.code).toBe(0);
      expect(JSON.parse(stopped.stdout)).toEqual({
        runId: id,
        outcome: "stopped",
        status: "stopped",
        exitCode: 143,
      });
      expect(jobProcesses(marker)).toEqual([]);
      expect(running(other)).toBe(true);
    });

    it("a run.json with a crafted id runs nothing on the host: a clear error instead", async () => {
      project = await makeProject();
      const id = "20260101-000000-abcd";
      const evil = `/tmp/offload-pwned-${process.pid}`;
      const record = {
        version: 1,
        id: `${id}$(touch ${evil})`,
        command: ["true"],
        target: { label: host, kind: "ssh", host, remoteDir: "/tmp" },
        status: "running",
        exitCode: null,
        startedAt: new Date().toISOString(),
        phases: {},
        envNames: [],
        download: [],
        artifacts: [],
        mappedFiles: [],
        logBytes: 0,
      };
      await project.write(`.offload/runs/${id}/run.json`, JSON.stringify(record));
      for (const command of ["stop", "attach"]) {
        const result = await offload(project, [command, id]);
        expect(result.code).toBe(200);
        expect(result.stderr).toContain("not a run id");
      }
      expect(ssh(`if [ -e ${evil} ]; then echo made; else echo none; fi`).trim()).toBe("none");
    });

    it("a run displaced by --force is recorded as stopped, and its terminal is told who took over", async () => {
      project = await makeProject();
      const marker = `sleep 6${process.pid % 1000}8`;
      await project.write("job.sh", `${marker} &\nwhile :; do sleep 0.2; done\n`);
      const remote = `${host}/trust-force-${process.pid}`;
      const first = offload(project, ["run", "--host", remote, "--", "sh", "job.sh"]);
      await waitFor(() => jobProcesses(marker).length > 0);
      const forced = await offload(project, ["run", "--force", "--host", remote, "--", "true"]);
      expect(forced.code).toBe(0);
      const displaced = await first;
      expect(displaced.code).toBe(143);
      const records = await Promise.all((await project.runIds()).map((i) => project?.record(i)));
      const old = records.find((r) => r?.command.includes("job.sh"));
      const taker = records.find((r) => r?.command[0] === "true");
      expect(displaced.stderr).toContain(
        `run ${taker?.id} took over the remote dir with --force and stopped this run`,
      );
      expect(old).toMatchObject({ status: "stopped", exitCode: 143, displacedBy: taker?.id });
      expect(jobProcesses(marker)).toEqual([]);
    });

    it("`ps` asks the host: an ended run is settled, a lost one shown lost, an unreachable host unknown", async () => {
      project = await makeProject();
      const marker = `sleep 5${process.pid % 1000}9`;
      const start = async (dir: string, command: string[]) => {
        const result = await offload(project as TempProject, [
          "run",
          "--no-wait",
          "--host",
          `${host}/trust-ps-${dir}-${process.pid}`,
          "--",
          ...command,
        ]);
        expect(result.code).toBe(0);
        return project?.record(result.stdout.trim()) as Promise<RunRecord>;
      };
      const ended = await start("ended", ["sh", "-c", "exit 3"]);
      const lost = await start("lost", ["sh", "-c", `${marker}1`]);
      const live = await start("live", ["sh", "-c", `${marker}2`]);
      await waitFor(
        () => ssh(`[ -f '${runDirOf(ended)}/exit' ] && echo y || echo n`).trim() === "y",
      );
      await waitFor(() => jobProcesses(`${marker}1`).length > 0);
      // The launcher and the job die without a word: a reboot, an OOM kill.
      for (const proc of processesInHost(host))
        if (proc.pid === lost.remote?.launcherPid || proc.cmdline.includes(`${marker}1`))
          process.kill(proc.pid, "SIGKILL");
      // A run whose host refuses connections (port 1): its state cannot be known.
      const away = { ...live, id: "20260101-000000-zzzz", target: { ...live.target } };
      away.target.label = `${host}:1`;
      await project.write(`.offload/runs/${away.id}/run.json`, JSON.stringify(away));

      const offline = await offload(project, ["ps", "--offline"]);
      expect(offline.stdout.match(/ running /g)?.length).toBe(4);

      const ps = await offload(project, ["ps"]);
      expect(ps.code).toBe(0);
      const row = (id: string) => ps.stdout.split("\n").find((line) => line.startsWith(id)) ?? "";
      expect(row(ended.id)).toMatch(/ failed +3 /);
      expect(row(lost.id)).toMatch(/ lost +- /);
      expect(row(live.id)).toMatch(/ running +- /);
      expect(row(away.id)).toMatch(/ unknown +- /);
      expect(ps.stderr).toContain(`run ${away.id}: status unknown: `);
      expect(await project.record(ended.id)).toMatchObject({ status: "failed", exitCode: 3 });
      // The end the host stamped, not the moment ps looked.
      const settled = await project.record(ended.id);
      expect(settled.finishedAt).toBeDefined();
      expect(settled.finishedAt).toBe(settled.job?.endedAt);
      expect(await project.record(lost.id)).toMatchObject({ status: "lost", exitCode: null });
      expect((await project.record(away.id)).status).toBe("running");

      const json = jsonLines((await offload(project, ["ps", "--json"])).stdout) as RunRecord[];
      expect(json.find((r) => r.id === away.id)).toMatchObject({ status: "unknown" });
      expect(json.find((r) => r.id === ended.id)).toMatchObject({ status: "failed" });

      const stopped = await offload(project, ["stop", live.id]);
      expect(stopped.code).toBe(0);
    });
  },
  { netns: true },
);

describe("stop and ps on the local target", () => {
  const offload = (p: TempProject, args: string[]) =>
    runCli(args, { cwd: p.dir, env: { HOME: p.home } });

  it("`offload stop` with nothing running says so and stops nothing; --json prints the outcome", async () => {
    project = await makeProject();
    const run = await offload(project, ["run", "--host", "local", "--", "true"]);
    expect(run.code).toBe(0);
    const [id = ""] = await project.runIds();
    const stop = await offload(project, ["stop"]);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toContain(
      `no run of this project is running (the latest, ${id}, succeeded); nothing was stopped`,
    );
    const json = await offload(project, ["stop", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ outcome: "nothing-running" });
    expect((await project.record(id)).status).toBe("succeeded");
  });

  it("`ps` shows newlines and tabs in arguments as escapes, one run a line", async () => {
    project = await makeProject();
    const run = await offload(project, [
      "run",
      "--host",
      "local",
      "--",
      "sh",
      "-c",
      "true",
      "tab\there",
      "new\nline",
    ]);
    expect(run.code).toBe(0);
    const ps = await offload(project, ["ps"]);
    const lines = ps.stdout.trimEnd().split("\n");
    expect(lines.length).toBe(2);
    expect(lines[1]).toContain("sh -c true tab\\there new\\nline");
    expect(lines[1]).not.toContain("\t");
  });
});
