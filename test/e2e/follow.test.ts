// Watching a run means what the screen says: Ctrl+C in `run` stops the job and a second leaves while the
// host finishes the stop; Ctrl+C in `attach` and `logs -f` only stops watching; `logs` fetches what is
// not home yet; durations come from the host's clock; a closed stdout ends offload quietly (141).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type CliOptions, jsonLines, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, processesInHost, sessionPids } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls (bounded) until `ready` says yes; the test's own assertion then says what was wrong. */
async function waitFor(ready: () => boolean, tries = 300): Promise<void> {
  for (let i = 0; i < tries && !ready(); i++) await sleep(100);
}

function countingJob(lines: number, pause: string, code: number): string {
  return `i=1; while [ $i -le ${lines} ]; do printf 'line %06d\\n' $i; i=$((i + 1)); sleep ${pause}; done; exit ${code}`;
}

function expectedLines(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `line ${String(i + 1).padStart(6, "0")}\n`).join(
    "",
  );
}

/** The pid's parent, from /proc (the test bed's hosts share this machine's pid namespace). */
function parentOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const ppid = /^PPid:\s+([0-9]+)/m.exec(status)?.[1];
    return ppid === undefined ? undefined : Number(ppid);
  } catch {
    return undefined;
  }
}

describeWithHosts(3, "watching a run", (bed) => {
  // h2 is calm (survive.test.ts uses it too, with other remote dirs); nothing here faults a whole host.
  const host = bed.hosts[1] ?? "offload-h2";
  const ssh = (command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, "-o", "ConnectTimeout=5", host, command]);
  const offload = (p: TempProject, args: string[], extra: Partial<CliOptions> = {}) =>
    runCli([...args.slice(0, 1), "--ssh-config", bed.sshConfig, ...args.slice(1)], {
      cwd: p.dir,
      ...extra,
    });
  const jobProcesses = (marker: string) =>
    processesInHost(host).filter((proc) => proc.cmdline.includes(marker));
  const remoteRunDir = (remoteDir: string, id: string) => `${remoteDir}/.offload/runs/${id}`;

  /** Kills the ssh connection that carries a process whose command line has `marker`: that one only. */
  const killConnectionOf = (marker: string) => {
    const sessions = new Set(sessionPids(host));
    const killed: number[] = [];
    for (const proc of jobProcesses(marker)) {
      for (let pid = parentOf(proc.pid); pid !== undefined && pid > 1; pid = parentOf(pid)) {
        if (!sessions.has(pid)) continue;
        process.kill(pid, "SIGKILL");
        killed.push(pid);
      }
    }
    return killed;
  };

  it("a first Ctrl+C gives the job stop.grace seconds, a second leaves at once and the KILL still follows", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "stop:\n  grace: 20\n");
    const marker = `sleep 5${process.pid % 1000}3`;
    await project.write(
      "job.sh",
      `trap '' TERM\n${marker} &\nwhile :; do echo tick; sleep 0.2; done\n`,
    );
    let pid = 0;
    let stderr = "";
    const running = offload(
      project,
      ["run", "--host", `${host}/follow-int2-${process.pid}`, "--", "sh", "job.sh"],
      {
        onSpawn: (p) => {
          pid = p;
        },
        onStderr: (text) => {
          stderr += text;
        },
      },
    );
    await waitFor(() => jobProcesses(marker).length > 0);
    process.kill(pid, "SIGINT");
    await waitFor(() => stderr.includes("stopping run"));
    expect(stderr).toContain("KILL after 20 s if they still run");
    process.kill(pid, "SIGINT");
    const result = await running;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("It is being stopped on the host all the same");
    expect(result.stderr).toContain("KILL follows 20 s after it");
    expect(result.stderr).not.toContain("leave it running");
    // offload left before the grace period ended: the job, which ignores TERM, still runs.
    expect(jobProcesses(marker).length, result.stderr).toBe(1);
    const [id = ""] = await project.runIds();
    expect(await project.record(id)).toMatchObject({ status: "running", stopRequested: true });
    // …and the host killed it when the grace period was over, with no offload watching.
    const attached = await offload(project, ["attach", id]);
    expect(attached.code).toBe(137);
    expect(jobProcesses(marker)).toEqual([]);
  });

  it("Ctrl+C in attach and logs -f only stops watching; any number of logs -f watch beside a follower", async () => {
    project = await makeProject();
    const remoteDir = `follow-watch-${process.pid}`;
    // The job waits for a file the test writes once every watcher has been tried: no race with its end.
    await project.write(
      "wait.sh",
      `${countingJob(20, "0.05", 0).replace(/; exit 0$/, "")}\nwhile [ ! -f release ]; do sleep 0.1; done\necho done\nexit 3\n`,
    );
    const expected = `${expectedLines(20)}done\n`;
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      `${host}/${remoteDir}`,
      "--",
      "sh",
      "wait.sh",
    ]);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    let attachPid = 0;
    let attachOut = "";
    const attaching = offload(project, ["attach", id], {
      onSpawn: (p) => {
        attachPid = p;
      },
      onStdout: (text) => {
        attachOut += text;
      },
    });
    await waitFor(() => attachOut.includes("line 000005"));
    // Two more watchers while `attach` holds the follower mark.
    let leftPid = 0;
    let leftOut = "";
    const leaving = offload(project, ["logs", "-f", id], {
      onSpawn: (p) => {
        leftPid = p;
      },
      onStdout: (text) => {
        leftOut += text;
      },
    });
    let stayedOut = "";
    const staying = offload(project, ["logs", "--follow", id], {
      onStdout: (text) => {
        stayedOut += text;
      },
    });
    await waitFor(() => leftOut.includes("line 000020") && stayedOut.includes("line 000020"));
    process.kill(leftPid, "SIGINT");
    const left = await leaving;
    expect(left.code, left.stderr).toBe(130);
    expect(left.stderr).toContain(`offload stop ${id}`);
    await waitFor(() => attachOut.includes("line 000020"));
    process.kill(attachPid, "SIGINT");
    const detached = await attaching;
    expect(detached.code, detached.stderr).toBe(130);
    expect(detached.stderr).toContain("Ctrl+C stops watching");
    expect(detached.stderr).toContain("keeps running");
    expect(detached.stderr).not.toContain("stopping run");
    expect(await project.record(id)).toMatchObject({ status: "running" });
    // The job was never stopped: the watcher that stayed sees it to its own end.
    ssh(`touch /root/${remoteDir}/release`);
    const stayed = await staying;
    expect(stayed.code).toBe(0);
    expect(stayed.stdout).toBe(expected);
    const finished = await offload(project, ["attach", id]);
    expect(finished.code).toBe(3);
    expect((await project.localLog(id)).toString()).toBe(expected);
  });

  it("logs fetches a --no-wait run's log from the host, --tail N, and says so when a log is gone", async () => {
    project = await makeProject();
    const remoteDir = `follow-logs-${process.pid}`;
    await project.write("count.sh", countingJob(30, "0", 0));
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      `${host}/${remoteDir}`,
      "--",
      "sh",
      "count.sh",
    ]);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    // The run is over on the host long before anyone looks; nothing of its log is here yet.
    const followed = await offload(project, ["logs", "-f", id]);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe(expectedLines(30));
    const all = await offload(project, ["logs", id]);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(expectedLines(30));
    const tail = await offload(project, ["logs", "--tail", "2", id]);
    expect(tail.stdout).toBe("line 000029\nline 000030\n");
    // Home, then gone locally: fetched again from the host.
    expect((await offload(project, ["attach", id])).code).toBe(0);
    const localTail = await offload(project, ["logs", "--tail", "1", id]);
    expect(localTail.stdout).toBe("line 000030\n");
    rmSync(join(project.dir, ".offload/runs", id, "output.log"));
    const refetched = await offload(project, ["logs", id]);
    expect(refetched.stdout).toBe(expectedLines(30));
    // Gone here and there: an error that says so, with what to do.
    ssh(`rm -rf ${remoteRunDir(remoteDir, id)}`);
    const gone = await offload(project, ["logs", id]);
    expect(gone.code).toBe(200);
    expect(gone.stderr).toContain("E_LOG_MISSING");
    expect(gone.stderr).toContain("hint:");
  });

  it("durations come from the host's clock: attach, a second attach and stop keep them", async () => {
    project = await makeProject();
    const remoteDir = `follow-times-${process.pid}`;
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      `${host}/${remoteDir}`,
      "--",
      "sh",
      "-c",
      "sleep 2; exit 4",
    ]);
    const id = started.stdout.trim();
    const dir = `/root/${remoteDir}/.offload/runs/${id}`;
    for (let i = 0; i < 100 && ssh(`cat ${dir}/exit 2>/dev/null || true`).length === 0; i++)
      await sleep(100);
    const attached = await offload(project, ["attach", id]);
    expect(attached.code).toBe(4);
    const record = await project.record(id);
    const stamp = (name: string) =>
      new Date(Number(ssh(`cat ${dir}/${name}`).toString())).toISOString();
    expect(record.job).toEqual({ startedAt: stamp("started"), endedAt: stamp("ended") });
    expect(record.finishedAt).toBe(record.job?.endedAt);
    const ms = Date.parse(record.job?.endedAt ?? "") - Date.parse(record.job?.startedAt ?? "");
    // The job slept 2 s; the start stamp follows its fork by a moment, and stamps are whole ms.
    expect(ms).toBeGreaterThan(1900);
    // The line says the job's time, not how long this attach took.
    expect(attached.stderr).toContain(`failed (exit 4) after ${(ms / 1000).toFixed(2)} s`);
    const again = await offload(project, ["attach", id]);
    expect(again.code).toBe(4);
    expect((await project.record(id)).finishedAt).toBe(record.finishedAt);
    const report = await runCli(["report", "--json", id], { cwd: project.dir });
    expect(jsonLines(report.stdout)).toMatchObject([{ id, durationMs: ms }]);

    const marker = `sleep 9${process.pid % 1000}5`;
    await project.write("job.sh", `${marker} &\nsleep 1.5\nwait\n`);
    const long = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      `${host}/${remoteDir}-stop`,
      "--",
      "sh",
      "job.sh",
    ]);
    const longId = long.stdout.trim();
    const stopDir = `/root/${remoteDir}-stop/.offload/runs/${longId}`;
    await waitFor(() => ssh(`cat ${stopDir}/started 2>/dev/null || true`).length > 0);
    await sleep(1600);
    const stopped = await offload(project, ["stop", longId]);
    const seconds = Number(/stopped \(exit 143\) after ([0-9.]+) s/.exec(stopped.stderr)?.[1]);
    expect(seconds, stopped.stderr).toBeGreaterThanOrEqual(1.5);
    const ps = await runCli(["ps"], { cwd: project.dir });
    const row = new RegExp(`${longId}.*stopped\\s+143\\s+([0-9]+)s`).exec(ps.stdout);
    expect(Number(row?.[1]), ps.stdout).toBeGreaterThanOrEqual(2);
  });

  it("`offload run --resume` attaches to the latest run", async () => {
    project = await makeProject();
    await project.write("count.sh", countingJob(5, "0.1", 6));
    const started = await offload(project, [
      "run",
      "--no-wait",
      "--host",
      `${host}/follow-resume-${process.pid}`,
      "--",
      "sh",
      "count.sh",
    ]);
    const id = started.stdout.trim();
    const resumed = await offload(project, ["run", "--resume"]);
    expect(resumed.code).toBe(6);
    expect(resumed.stderr).toContain(`attached to run ${id}`);
    expect(resumed.stdout).toBe(expectedLines(5));
  });

  it("a closed stdout ends run quietly with 141, the job goes on and attach picks it up", async () => {
    project = await makeProject();
    const lines = 60;
    await project.write("count.sh", countingJob(lines, "0.05", 0));
    const result = await offload(
      project,
      ["run", "--host", `${host}/follow-pipe-${process.pid}`, "--", "sh", "count.sh"],
      { closeStdoutWhen: (text) => text.includes("line 000002") },
    );
    expect(result.code).toBe(141);
    expect(result.stderr).not.toContain("offload hit a bug");
    expect(result.stderr).toContain("E_OUTPUT_CLOSED");
    const [id = ""] = await project.runIds();
    const record = await project.record(id);
    expect(record.status).toBe("running");
    expect(record.error).toBeUndefined();
    const attached = await offload(project, ["attach", id]);
    expect(attached.code).toBe(0);
    expect((await project.localLog(id)).toString()).toBe(expectedLines(lines));
  });

  it("`offload events big.log | head -1` ends quietly with 141", async () => {
    project = await makeProject();
    const big = Array.from({ length: 50_000 }, (_, i) => `{"step": ${i + 1}, "loss": 0.5}\n`);
    writeFileSync(join(project.dir, "big.log"), big.join(""));
    const result = await runCli(["events", "big.log"], {
      cwd: project.dir,
      closeStdoutWhen: (text) => text.includes("\n"),
    });
    expect(result.code).toBe(141);
    expect(result.stderr).toBe("");
  });

  it("run's stdout is the log byte for byte, also without a final line break", async () => {
    project = await makeProject();
    const result = await offload(project, [
      "run",
      "--host",
      `${host}/follow-exact-${process.pid}`,
      "--",
      "printf",
      "a\\nb",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("a\nb");
  });

  it("a fast log reaches a piped stdout and output.log byte for byte, block after block", async () => {
    project = await makeProject();
    // ~7 MB of lines that all differ: offload reads them back in 1 MiB blocks into one buffer, which
    // a pipe that queued a write (instead of taking it whole) would see overwritten.
    const dir = `follow-blocks-${process.pid}`;
    const result = await offload(project, [
      "run",
      "--host",
      `${host}/${dir}`,
      "--",
      "seq",
      "1000000",
    ]);
    ssh(`rm -rf ${dir}`);
    expect(result.code, result.stderr).toBe(0);
    const expected = Array.from({ length: 1_000_000 }, (_, i) => `${i + 1}\n`).join("");
    expect(result.stdout.length).toBe(expected.length);
    expect(result.stdout === expected).toBe(true);
    const [id] = await project.runIds();
    const log = readFileSync(join(project.dir, ".offload/runs", id ?? "", "output.log"), "utf8");
    expect(log === expected).toBe(true);
  });

  it("a reconnect notice says what happened, and each outage counts its attempts from 1", async () => {
    project = await makeProject();
    await project.write(
      "offload.yaml",
      "ssh:\n  keepalive: 1\n  connect_timeout: 3\nreconnect:\n  timeout: 60\n",
    );
    const lines = 120;
    const remoteDir = `follow-reconnect-${process.pid}`;
    await project.write("count.sh", countingJob(lines, "0.1", 0));
    let seen = "";
    let stderr = "";
    // Its own control dir: its own ssh connection, which only this test cuts.
    const control = await mkdtemp(join(tmpdir(), "offload-ctl-"));
    const running = offload(
      project,
      ["run", "--host", `${host}/${remoteDir}`, "--", "sh", "count.sh"],
      {
        env: { OFFLOAD_CONTROL_DIR: control },
        onStdout: (text) => {
          seen += text;
        },
        onStderr: (text) => {
          stderr += text;
        },
      },
    );
    try {
      await waitFor(() => seen.includes("line 000010"));
      expect(killConnectionOf(remoteDir).length).toBeGreaterThan(0);
      await waitFor(() => stderr.includes("reconnected"));
      await waitFor(() => seen.includes("line 000060"));
      expect(killConnectionOf(remoteDir).length).toBeGreaterThan(0);
      const result = await running;
      expect(result.code).toBe(0);
      const notices = result.stderr.split("\n").filter((line) => line.includes("connection lost"));
      expect(notices.length, result.stderr).toBe(2);
      for (const notice of notices) {
        expect(notice).toContain("(attempt 1)");
        expect(notice).not.toContain("()");
        expect(notice).not.toMatch(/offload-[a-z]/);
      }
      expect(result.stdout).toBe(expectedLines(lines));
    } finally {
      await running;
      rmSync(control, { recursive: true, force: true });
    }
  });
});
