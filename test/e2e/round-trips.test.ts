// The round trips of a run's start on a real OpenSSH host, read from OFFLOAD_TRACE's time line (each
// child process from its spawn to its end, each event the run reported): which ones a run makes, and
// which of them wait for which.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, execInHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

interface Span {
  name: string;
  start: number;
  end: number;
}

/** The children of a traced command (`trace  1232 →  1367 (135 ms)  ssh … sh -c '…`) and its marks. */
function readTrace(stderr: string): { spans: Span[]; marks: Map<string, number> } {
  const spans: Span[] = [];
  const marks = new Map<string, number>();
  for (const line of stderr.split("\n")) {
    const span = /^trace\s+(\d+)\s+→\s*(\d+)\s+\(\d+ ms\)\s+(.*)$/.exec(line);
    if (span) {
      spans.push({ start: Number(span[1]), end: Number(span[2]), name: span[3] ?? "" });
      continue;
    }
    const mark = /^trace\s+(\d+)\s+(\S.*)$/.exec(line);
    if (mark) marks.set(mark[2] ?? "", Number(mark[1]));
  }
  return { spans, marks };
}

describeWithHosts(1, "a run's round trips", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";
  const unique = `${process.pid}-${Date.now()}`;
  const run = (p: TempProject, dir: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(["run", "--ssh-config", bed.sshConfig, "--host", `${host}/${dir}`, ...args], {
      cwd: p.dir,
      env: { HOME: p.home, XDG_CONFIG_HOME: `${p.home}/config`, OFFLOAD_TRACE: "1", ...env },
    });

  it("a run without recent host facts probes the host beside its launch, not before it", async () => {
    project = await makeProject();
    await project.write("train.py", "print('hi')\n");
    const dir = `round-trips-probe-${unique}`;
    // A control dir of its own: no facts cached from an earlier run, as on a cold run.
    const env = { OFFLOAD_CONTROL_DIR: `${project.home}/control` };
    mkdirSync(env.OFFLOAD_CONTROL_DIR, { recursive: true });
    try {
      const result = await run(project, dir, ["--", "sleep", "0.5"], env);
      expect(result.code, result.stderr).toBe(0);
      const { spans, marks } = readTrace(result.stderr);
      const launched = marks.get("event launched");
      expect(launched, result.stderr).toBeDefined();
      const at = launched ?? 0;
      // The probe is the one script that starts with the remote dir (`D=…`); the launch's ssh is the
      // one under way when the job was reported launched.
      const probe = spans.find((span) => span.name.startsWith("ssh") && / D=/.test(span.name));
      const launch = spans.find((s) => s.name.startsWith("ssh") && s.start <= at && s.end >= at);
      expect(probe, result.stderr).toBeDefined();
      expect(launch, result.stderr).toBeDefined();
      // Beside: the launch's ssh started while the probe's was still out (before, it waited for it).
      expect(launch?.start).toBeGreaterThanOrEqual(probe?.start ?? Number.NaN);
      expect(launch?.start).toBeLessThan(probe?.end ?? Number.NaN);
      // And the run still ends with the host's facts in its record.
      const [id] = await project.runIds();
      expect((await project.record(id ?? "")).host).toMatchObject({ os: "Linux" });
    } finally {
      await execInHost(host, ["rm", "-rf", `/root/${dir}`]);
    }
  });

  it("a run into another remote dir of a host probed since its boot takes its facts: no probe", async () => {
    project = await makeProject();
    await project.write("train.py", "print('hi')\n");
    const dirs = [`round-trips-facts-a-${unique}`, `round-trips-facts-b-${unique}`];
    const env = { OFFLOAD_CONTROL_DIR: `${project.home}/control` };
    mkdirSync(env.OFFLOAD_CONTROL_DIR, { recursive: true });
    const probes = (stderr: string) =>
      readTrace(stderr).spans.filter((s) => s.name.startsWith("ssh") && / D=/.test(s.name));
    try {
      const first = await run(project, dirs[0] ?? "", ["--", "true"], env);
      expect(first.code, first.stderr).toBe(0);
      expect(probes(first.stderr), first.stderr).toHaveLength(1);
      const second = await run(project, dirs[1] ?? "", ["--", "true"], env);
      expect(second.code, second.stderr).toBe(0);
      // Before, each new remote dir cost a probe (Python, rsync, nvidia-smi started on the host).
      expect(probes(second.stderr), second.stderr).toHaveLength(0);
      const [, id] = await project.runIds();
      expect((await project.record(id ?? "")).host).toMatchObject({ os: "Linux" });
    } finally {
      for (const dir of dirs) await execInHost(host, ["rm", "-rf", `/root/${dir}`]);
    }
  });

  /** The ssh clients a traced run started up to its job's launch, and whether it started rsync. */
  const children = (stderr: string) => {
    const { spans, marks } = readTrace(stderr);
    const launched = marks.get("event launched") ?? Number.NaN;
    return {
      ssh: spans.filter((span) => span.name.startsWith("ssh") && span.start <= launched).length,
      rsync: spans.some((span) => span.name.startsWith("rsync")),
    };
  };

  it("launches an unchanged workspace's run down its prepare connection: one ssh, secrets intact", async () => {
    project = await makeProject();
    await project.write("train.py", "print('hi')\n");
    const dir = `round-trips-held-${unique}`;
    try {
      // The first run syncs, the second finds the first's writes newer than its stamp and syncs again;
      // from the third on the host proves the workspace unchanged.
      for (let i = 0; i < 2; i++) expect((await run(project, dir, ["--", "true"])).code).toBe(0);
      const job = 'printf "%s|%s\\n" "$(cat train.py)" "$TOK"; exit 7';
      const third = await run(project, dir, ["--secret", "TOK", "--", job], { TOK: "s3cr3t v" });
      expect(third.code, third.stderr).toBe(7);
      expect(third.stdout).toBe("print('hi')|s3cr3t v\n");
      // Prepare, lock, proof and launch in one connection; before, a second ssh carried the launch.
      expect(children(third.stderr)).toEqual({ ssh: 1, rsync: false });
      const [, , id] = await project.runIds();
      expect(await project.record(id ?? "")).toMatchObject({ status: "failed", exitCode: 7 });
      // Nothing was left holding the remote dir: the next run takes the lock at once.
      const fourth = await run(project, dir, ["--no-wait", "--", "true"]);
      expect(fourth.code, fourth.stderr).toBe(0);
    } finally {
      await execInHost(host, ["rm", "-rf", `/root/${dir}`]);
    }
  });

  it("hands a held launch's log to a stream that ssh writes into the local log: byte for byte, no reconnect", async () => {
    project = await makeProject();
    await project.write("train.py", "print('hi')\n");
    const dir = `round-trips-handoff-${unique}`;
    try {
      for (let i = 0; i < 2; i++) expect((await run(project, dir, ["--", "true"])).code).toBe(0);
      // Longer than the launch's short wait, then 3 MB in one go and a last line without a break.
      const job = "sleep 1; head -c 3000000 /dev/zero | tr '\\0' x; printf 'last'";
      const third = await run(project, dir, ["--", job]);
      expect(third.code, third.stderr).toBe(0);
      const { marks } = readTrace(third.stderr);
      // The launch went down the held prepare connection; the log came by a stream of its own.
      expect(marks.has("stream held"), third.stderr).toBe(true);
      expect(marks.has("stream direct"), third.stderr).toBe(true);
      expect(marks.has("event reconnecting"), third.stderr).toBe(false);
      const expected = `${"x".repeat(3_000_000)}last`;
      expect(third.stdout.length).toBe(expected.length);
      expect(third.stdout === expected).toBe(true);
      const [, , id] = await project.runIds();
      const log = readFileSync(join(project.dir, ".offload/runs", id ?? "", "output.log"), "utf8");
      expect(log === expected).toBe(true);
      expect(await project.record(id ?? "")).toMatchObject({ status: "succeeded", exitCode: 0 });
    } finally {
      await execInHost(host, ["rm", "-rf", `/root/${dir}`]);
    }
  });

  it("lets the held connection go when the workspace changed here, then syncs and launches as before", async () => {
    project = await makeProject();
    await project.write("train.py", "print('v1')\n");
    const dir = `round-trips-changed-${unique}`;
    try {
      for (let i = 0; i < 3; i++) expect((await run(project, dir, ["--", "true"])).code).toBe(0);
      // The host still proves its copy unchanged; this machine's copy is not, so the run must sync.
      await project.write("train.py", "print('v2')\n");
      const changed = await run(project, dir, ["--", "cat", "train.py"]);
      expect(changed.code, changed.stderr).toBe(0);
      expect(changed.stdout).toBe("print('v2')\n");
      expect(children(changed.stderr)).toEqual({ ssh: 2, rsync: true });
    } finally {
      await execInHost(host, ["rm", "-rf", `/root/${dir}`]);
    }
  });
});
