// The run page's events: what the run went through (its phases, status, retries, stops, checkpoints,
// reconnects), streamed to the page beside the log. Proven on a real run on a test-bed host, read from
// the stream as the page reads it, and on records whose changes the run's owner saves.
import { afterEach, describe, expect, it } from "vitest";
import { followEvent, recordChanges } from "../../src/dashboard/run-events.js";
import type { RunRecord } from "../../src/runs/record.js";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { makeRecord } from "../support/record.js";
import { startUi } from "../support/ui.js";
import { describeWithHosts } from "../testbed/index.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function record(fields: Partial<RunRecord> = {}): RunRecord {
  return makeRecord({
    id: "20261202-031500-abcd",
    command: ["python", "train.py"],
    target: { label: "gpu", kind: "ssh", remoteDir: "/w" },
    status: "launching",
    exitCode: null,
    startedAt: "2026-12-02T03:15:00.000Z",
    phases: { connect: 120, sync: 300 },
    ...fields,
  });
}

describe("a run's events from its record", () => {
  it("tells a first look everything, and each later look only what changed", () => {
    const first = record();
    expect(recordChanges(undefined, first)).toEqual([
      { kind: "phase", text: "connect: 120 ms" },
      { kind: "phase", text: "sync: 300 ms" },
      { kind: "status", text: "launching" },
    ]);
    const running = record({ status: "running", phases: { ...first.phases, launch: 80 } });
    expect(recordChanges(first, running)).toEqual([
      { kind: "phase", text: "launch: 80 ms" },
      { kind: "status", text: "running" },
    ]);
    expect(recordChanges(running, running)).toEqual([]);
  });

  it("tells a retry, a stop, a checkpoint, a download failure and the end", () => {
    const before = record({ status: "running", attempt: 1 });
    const after = record({
      status: "stopped",
      exitCode: 143,
      attempt: 2,
      attempts: [
        { attempt: 1, status: "lost", exitCode: null, finishedAt: "x", log: "attempts/1.log" },
      ],
      stopRequested: true,
      checkpoint: { at: "y", count: 3, files: 2 },
      artifacts: ["model.pt"],
      error: { code: "E_DOWNLOAD", message: "model.pt did not come home" },
    });
    expect(recordChanges(before, after)).toEqual([
      { kind: "retry", text: "attempt 1 lost: tried again; its log is attempts/1.log" },
      { kind: "stop", text: "a stop was asked for" },
      { kind: "checkpoint", text: "checkpoint 3: 2 files held" },
      { kind: "download", text: "1 files downloaded" },
      { kind: "error", text: "E_DOWNLOAD: model.pt did not come home" },
      { kind: "status", text: "stopped (attempt 2), exit 143" },
    ]);
  });

  it("tells the follow's reconnects, and nothing of its other events", () => {
    expect(followEvent({ type: "reconnecting", attempt: 2, delayMs: 500, reason: "ssh" })).toEqual({
      kind: "reconnect",
      text: "link lost (ssh): reconnecting, try 2",
    });
    expect(followEvent({ type: "reconnected", attempt: 2, offset: 4096 })?.text).toBe(
      "reconnected; the log resumes at byte 4096",
    );
    expect(followEvent({ type: "downloading", rules: 1 })).toBeUndefined();
  });
});

/** Server-sent events of one type in a stream's text, their data parsed. */
function eventsOf(text: string, type: string): unknown[] {
  return text
    .split("\n\n")
    .filter((block) => block.split("\n").includes(`event: ${type}`))
    .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)));
}

describeWithHosts(2, "the run page's events", (bed) => {
  // h2 is a calm host: no test injects faults there.
  const host = bed.hosts[1] ?? "offload-h2";

  it("streams a real run's phases and status to its end", async () => {
    const project: TempProject = await makeProject();
    cleanups.push(() => project.remove());
    await project.write("job.sh", "echo start\nsleep 3\necho done\n");
    const ui = await startUi(project.dir, ["--ssh-config", bed.sshConfig], { timeoutMs: 300_000 });
    cleanups.push(ui.stop);
    const { origin, token } = ui;

    const run = runCli(
      ["run", "--ssh-config", bed.sshConfig, "--host", host, "--", "sh", "job.sh"],
      { cwd: project.dir },
    );
    // The stream is opened once the run has started on the host (its follow has a log to read).
    let id: string | undefined;
    for (let i = 0; i < 600 && id === undefined; i++) {
      const list = (await (await fetch(`${origin}/api/runs?token=${token}`)).json()) as {
        rows: { id: string; status: string }[];
      };
      id = list.rows.find((row) => row.status === "running")?.id;
      if (id === undefined) await sleep(100);
    }
    expect(id, "the run never showed as running").toBeDefined();
    const stream = await (await fetch(`${origin}/api/runs/${id}/stream?token=${token}`)).text();
    const finished = await run;
    expect(finished.code).toBe(0);

    const events = eventsOf(stream, "run-event") as { kind: string; text: string }[];
    const texts = events.map((event) => event.text);
    expect(texts).toContain("running");
    expect(texts.some((text) => /^launch: [0-9]+ ms$/.test(text))).toBe(true);
    expect(texts.some((text) => /^total: [0-9]+ ms$/.test(text))).toBe(true);
    // The stream ends once the record says how the run ended: that is its last status.
    expect(events.filter((event) => event.kind === "status").at(-1)?.text).toBe(
      "succeeded, exit 0",
    );
    // The stream's last word is its end, after the record's last status.
    expect(stream.trimEnd().split("\n\n").at(-1)).toMatch(/^event: end\n/);
  });
});
