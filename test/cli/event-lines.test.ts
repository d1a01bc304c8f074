// Every event the library reports has its rendering: the samples below are typed so that a new event
// type without one fails `npm run typecheck`, and each notice renders the sentence people read.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { describeEvent, isNotice } from "../../src/cli/event-lines.js";
import { createJsonReporter, MAX_JSON_LINE } from "../../src/cli/json-lines.js";
import type { RunEvent } from "../../src/events.js";

type Samples = { [K in RunEvent["type"]]: [Extract<RunEvent, { type: K }>, string | undefined][] };

const since = new Date(Date.now() - 125_000).toISOString();

/** For each event type: sample events and the line a person sees for each (undefined: no line). */
const samples: Samples = {
  connecting: [[{ type: "connecting", target: "gpu-box" }, undefined]],
  connected: [
    [{ type: "connected", target: "gpu-box", ms: 1500 }, "connected to gpu-box (1.50 s)"],
  ],
  syncing: [[{ type: "syncing", files: 3 }, undefined]],
  synced: [
    [
      {
        type: "synced",
        tool: "rsync",
        scanned: 1,
        transferred: 1,
        bytes: 10,
        removed: 0,
        ms: 200,
      },
      "synced 1 file with rsync: 1 sent, 10 B (0.20 s)",
    ],
    [
      { type: "synced", tool: "tar", scanned: 3, transferred: 3, bytes: 0, removed: 0, ms: 50 },
      "synced 3 files with tar: 3 sent (0.05 s)",
    ],
  ],
  transfer: [[{ type: "transfer", direction: "upload", bytes: 1, percent: 50 }, undefined]],
  env: [[{ type: "env", phase: "checking", key: "abc" }, "python env abc: checking"]],
  "env-output": [[{ type: "env-output", data: Buffer.from("pip\n") }, undefined]],
  launched: [
    [{ type: "launched", runId: "r1", remoteDir: "~/x", ms: 10 }, "run r1 started in ~/x"],
  ],
  output: [[{ type: "output", data: Buffer.from("hi\n") }, undefined]],
  machine: [[{ type: "machine", time: 1, cpuPercent: 12, gpus: [] }, undefined]],
  reconnecting: [
    [
      { type: "reconnecting", attempt: 1, delayMs: 1000, reason: "link down" },
      "connection lost: link down; reconnecting in 1.00 s (attempt 1)",
    ],
  ],
  reconnected: [
    [{ type: "reconnected", attempt: 1, offset: 42 }, "reconnected; resuming the log from byte 42"],
  ],
  downloading: [[{ type: "downloading", rules: 1 }, undefined]],
  downloaded: [
    [
      { type: "downloaded", files: 2, missing: [], skipped: [], ms: 300 },
      "downloaded 2 files (0.30 s)",
    ],
  ],
  checkpoint: [
    [{ type: "checkpoint", files: 1, at: since, to: "home" }, "checkpoint: 1 file fetched home"],
  ],
  finished: [
    [
      { type: "finished", runId: "r1", exitCode: 0, status: "succeeded", ms: 2000 },
      "run r1 finished (exit 0) in 2.00 s",
    ],
  ],
  failed: [[{ type: "failed", code: "E_SYNC", message: "no" }, undefined]],
  "machine-note": [
    [
      { type: "machine-note", text: "machine: gpu.h100.1 at $2.49/h" },
      "machine: gpu.h100.1 at $2.49/h",
    ],
  ],
  "machine-wait": [
    [{ type: "machine-wait", what: "ssh on 10.0.0.5" }, "waiting for ssh on 10.0.0.5"],
  ],
  "machine-ready": [
    [
      { type: "machine-ready", tag: "offload-ab12", id: "i-1", address: "10.0.0.5" },
      "machine: offload-ab12 (i-1) at 10.0.0.5",
    ],
  ],
  "machine-output": [[{ type: "machine-output", data: Buffer.from("apt\n") }, undefined]],
  "machine-setup-cached": [
    [
      { type: "machine-setup-cached", tag: "offload-ab12" },
      "machine: setup already done on this machine",
    ],
  ],
  "machine-interrupted": [
    [
      { type: "machine-interrupted" },
      "interrupted: deleting the machine (Ctrl+C again leaves it for the next offload command)",
    ],
  ],
  "machine-budget-stop": [
    [
      { type: "machine-budget-stop", budgetUsd: 3 },
      "budget: stopping the run before the budget of $3 is spent",
    ],
  ],
  "machine-deleting": [
    [{ type: "machine-deleting", tag: "offload-ab12" }, "machine: deleting offload-ab12"],
  ],
  "machine-released": [
    [
      { type: "machine-released", tag: "offload-ab12", kept: false, costUsd: 0.123 },
      "machine: offload-ab12 gone; cost $0.12",
    ],
    [{ type: "machine-released", tag: "offload-ab12", kept: true }, "machine: offload-ab12 kept"],
  ],
  "machine-left": [
    [
      { type: "machine-left", tag: "offload-ab12" },
      "machine offload-ab12 is left running: the next offload command deletes it (`offload down offload-ab12` does it now)",
    ],
  ],
  progress: [[{ type: "progress", epoch: 1, epochs: 2, source: "keras" }, undefined]],
  metric: [[{ type: "metric", name: "loss", value: 0.5, source: "keras" }, undefined]],
  "lock-reclaimed": [
    [
      { type: "lock-reclaimed", holder: "r0" },
      "reclaimed the remote dir's lock from run r0, which is no longer running",
    ],
  ],
  "lock-forced": [
    [
      { type: "lock-forced", holder: "r0", since },
      "--force: stopped run r0 (since TIME, 2 min ago) and took over the remote dir",
    ],
    [
      { type: "lock-forced", holder: "r0", since, unlaunched: true },
      "--force: took over the remote dir's lock from run r0 (since TIME, 2 min ago), which had not started its job (nothing was stopped)",
    ],
  ],
  displaced: [
    [
      { type: "displaced", runId: "r1", by: "r2" },
      "run r2 took over the remote dir with --force and stopped this run",
    ],
  ],
  attached: [
    [
      { type: "attached", runId: "r1", offset: 7, stopping: false },
      "attached to run r1 at byte 7 of its log; Ctrl+C stops watching (the run goes on), `offload stop r1` stops it",
    ],
    [
      { type: "attached", runId: "r1", offset: 7, stopping: true },
      "attached to run r1; the log resumes at byte 7",
    ],
    [
      { type: "attached", runId: "r1", offset: 7, stopping: false, ended: true },
      "attached to run r1, which has ended; the log resumes at byte 7",
    ],
    [
      { type: "attached", runId: "r1", offset: 7, stopping: false, slurmJobId: "12" },
      "attached to run r1 (Slurm job 12) at byte 7 of its log",
    ],
  ],
  stopping: [
    [
      { type: "stopping", runId: "r1", graceSeconds: 10 },
      "stopping run r1: TERM to its processes, KILL after 10 s if they still run (Ctrl+C again to stop waiting; the host finishes the stop)",
    ],
  ],
  "stop-failed": [
    [
      { type: "stop-failed", runId: "r1", reason: "timed out" },
      "could not stop the run yet: timed out",
    ],
  ],
  "disk-full": [
    [
      { type: "disk-full", remoteDir: "~/x", target: "gpu-box" },
      "The file system of ~/x on gpu-box is full: the job's output, files and status may be cut short. (Free space there; `df -h` shows it.)",
    ],
  ],
  "outputs-failed": [
    [
      { type: "outputs-failed", code: "E_DOWNLOAD", message: "Lost.", hint: "Attach." },
      "Lost. (Attach.)",
    ],
    [{ type: "outputs-failed", code: "E_DOWNLOAD", message: "Lost." }, "Lost."],
  ],
  "download-resumed": [[{ type: "download-resumed" }, "reconnected; resuming the download"]],
  retrying: [
    [
      {
        type: "retrying",
        attempt: 1,
        attempts: 2,
        why: "lost",
        backoffSeconds: 4,
        log: "output.1.log",
      },
      "attempt 1 of 2 lost the host; retrying in 4 s from the last checkpoint (its log: output.1.log)",
    ],
  ],
  "checkpoint-restored": [
    [
      { type: "checkpoint-restored", files: 1, from: "home", target: "gpu-box" },
      "put back 1 checkpoint file on gpu-box",
    ],
    [
      { type: "checkpoint-restored", files: 2, from: "bucket", target: "gpu-box" },
      "put back 2 checkpoint files from the bucket",
    ],
  ],
  "input-fetched": [
    [
      { type: "input-fetched", url: "s3://b/x", dest: "x", etag: "e1", cached: false, bytes: 5 },
      "input s3://b/x → x: fetched 5 bytes",
    ],
    [
      { type: "input-fetched", url: "s3://b/x", dest: "x", etag: "e1", cached: true, bytes: 0 },
      "input s3://b/x → x: in the host's cache (ETag e1), nothing transferred",
    ],
  ],
  "results-pushed": [
    [
      { type: "results-pushed", runId: "r1", files: 1, bytes: 9, url: "s3://b/r/", from: "h" },
      "results: 1 file (9 bytes) put into s3://b/r/ from h; `offload pull r1` brings them home",
    ],
  ],
  forwarding: [
    [
      { type: "forwarding", local: 6007, remote: 6006, target: "h", taken: 6006 },
      "forwarding http://127.0.0.1:6007/ -> h:6006 (local port 6006 is in use)",
    ],
  ],
  "forward-failed": [
    [{ type: "forward-failed", reason: "port taken" }, "could not forward: port taken"],
  ],
  "slurm-submitted": [[{ type: "slurm-submitted", jobId: "12" }, "submitted Slurm job 12"]],
  "slurm-state": [
    [
      { type: "slurm-state", jobId: "12", state: "PENDING", reason: "Resources" },
      "Slurm job 12: PENDING (Resources)",
    ],
    [
      { type: "slurm-state", jobId: "12", state: "RUNNING", nodes: "slurm-h[2-3]" },
      "Slurm job 12: RUNNING on slurm-h[2-3]",
    ],
  ],
  "slurm-cancelling": [
    [
      { type: "slurm-cancelling", jobId: "12" },
      "cancelling Slurm job 12 (scancel: Slurm sends TERM, then KILL after its KillWait; Ctrl+C again to stop waiting)",
    ],
  ],
  "slurm-cancel-failed": [
    [
      { type: "slurm-cancel-failed", jobId: "12", reason: "down" },
      "could not cancel the job yet: down",
    ],
  ],
  "slurm-unreachable": [
    [{ type: "slurm-unreachable", reason: "down" }, "Slurm does not answer yet: down"],
  ],
  "nodes-stopping": [
    [
      { type: "nodes-stopping", status: "failed", exitCode: 3 },
      "failed (exit 3): stopping every other node",
    ],
    [{ type: "nodes-stopping", error: "host gone" }, "host gone: stopping every other node"],
  ],
  "nodes-ended": [
    [
      {
        type: "nodes-ended",
        succeeded: true,
        nodes: [
          { node: 0, runId: "r1", status: "succeeded", exitCode: 0 },
          { node: 1, runId: "r2", status: "succeeded", exitCode: 0 },
        ],
        decisive: { node: 0, target: "h1", runId: "r1" },
      },
      "job on 2 nodes finished: n0 succeeded (0), n1 succeeded (0); logs: offload logs --node K r1",
    ],
    [
      {
        type: "nodes-ended",
        succeeded: false,
        nodes: [
          { node: 0, runId: "r1", status: "stopped", exitCode: null },
          { node: 1, runId: "r2", status: "failed", exitCode: 1 },
        ],
        decisive: { node: 1, target: "h2", runId: "r2" },
      },
      "job on 2 nodes ended by node 1 (h2, run r2): n0 stopped, n1 failed (1)",
    ],
    [
      {
        type: "nodes-ended",
        succeeded: false,
        stoppedByUser: true,
        nodes: [
          { node: 0, runId: "r1", status: "stopped", exitCode: 143 },
          { node: 1, runId: "r2", status: "stopped", exitCode: 143 },
        ],
        decisive: { node: 0, target: "h1", runId: "r1" },
      },
      "job on 2 nodes stopped by Ctrl+C: n0 stopped (143), n1 stopped (143); logs: offload logs --node K r1",
    ],
  ],
};

const all = Object.values(samples).flat() as [RunEvent, string | undefined][];

describe("describeEvent", () => {
  it.each(all.map(([event, line]) => [event.type, event, line] as const))(
    "renders %s as people read it",
    (_type, event, line) => {
      // The lock's local time depends on this machine's time zone: only its shape is pinned.
      const text = describeEvent(event)?.replace(/since [0-9-]+ [0-9:]+/, "since TIME");
      expect(text).toBe(line);
    },
  );

  it("gives every notice a line, and only notices are shown where just notices are", () => {
    for (const [event, line] of all) expect(isNotice(event) ? line !== undefined : true).toBe(true);
    expect(all.filter(([e]) => isNotice(e)).length).toBeGreaterThan(20);
    expect(isNotice({ type: "output", data: Buffer.alloc(0) })).toBe(false);
  });
});

describe("--json", () => {
  it("cuts the log into lines as it comes, whole characters kept, a line without end in pieces", () => {
    const stdout = new PassThrough();
    let written = "";
    stdout.on("data", (chunk: Buffer) => {
      written += chunk.toString("utf8");
    });
    const report = createJsonReporter({ stdout, stderr: new PassThrough() });
    const log = Buffer.from("ünï\ncodé\n");
    // Chunks cut inside a two-byte character, and the same memory reused (the bytes are lent).
    const lent = Buffer.alloc(log.length);
    for (const [from, to] of [
      [0, 1],
      [1, 7],
      [7, log.length],
    ] as const) {
      log.copy(lent, 0, from, to);
      report({ type: "output", data: lent.subarray(0, to - from) });
      lent.fill(0);
    }
    // One byte before the two-byte characters: the cut at MAX_JSON_LINE falls inside one.
    const long = Buffer.concat([Buffer.from("x"), Buffer.alloc(MAX_JSON_LINE + 10, "é")]);
    report({ type: "output", data: long });
    report({ type: "finished", status: "succeeded", exitCode: 0 } as never);
    const outputs = written
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; line?: string; more?: boolean })
      .filter((event) => event.type === "output");
    expect(outputs.slice(0, 2).map((o) => o.line)).toEqual(["ünï", "codé"]);
    // The unended line: a piece marked `more`, then the rest at the run's end; no byte lost or split.
    expect(outputs.slice(2).map((o) => o.more ?? false)).toEqual([true, false]);
    expect(
      outputs
        .slice(2)
        .map((o) => o.line)
        .join(""),
    ).toBe(long.toString("utf8"));
    expect(outputs.every((o) => !o.line?.includes("\uFFFD"))).toBe(true);
  });

  it("writes each event as one JSON line under its typed name, a notice with its sentence", () => {
    const stdout = new PassThrough();
    let written = "";
    stdout.on("data", (chunk: Buffer) => {
      written += chunk.toString("utf8");
    });
    const report = createJsonReporter({ stdout, stderr: new PassThrough() });
    for (const [event] of all) report(event);
    const lines = written
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const types = new Set(lines.map((l) => l.type));
    // A bar's updates never reach a program, nor machine samples (machine.txt has them); every
    // other type does, by its own name.
    expect(types.has("transfer")).toBe(false);
    expect(types.has("machine")).toBe(false);
    expect(types.has("notice")).toBe(false);
    for (const type of Object.keys(samples).filter((t) => t !== "transfer" && t !== "machine"))
      expect(types, type).toContain(type);
    const retry = lines.find((l) => l.type === "retrying");
    expect(retry).toMatchObject({
      attempt: 1,
      attempts: 2,
      why: "lost",
      backoffSeconds: 4,
      message: expect.stringContaining("retrying in 4 s"),
    });
    // An error's own message stays its own; the hint is its own field.
    expect(lines.find((l) => l.type === "outputs-failed" && l.hint)).toMatchObject({
      message: "Lost.",
      hint: "Attach.",
      code: "E_DOWNLOAD",
    });
  });
});
