// The bar of a long copy: drawn on a terminal (bytes, rate, ETA), gone before the next line, and
// never anywhere else: a pipe, --quiet and --json see today's lines only.
import { describe, expect, it, vi } from "vitest";
import { createJsonReporter } from "../../src/cli/json-lines.js";
import { describeTransfer } from "../../src/cli/progress-bar.js";
import { createHumanReporter } from "../../src/cli/render.js";
import type { RunEvent } from "../../src/events.js";
import { FakeTerminal } from "./fake-terminal.js";

const halfway: RunEvent = {
  type: "transfer",
  direction: "upload",
  bytes: 31_981_568,
  percent: 31,
  bytesPerSecond: 32_768_000,
  etaSeconds: 125,
};
const synced: RunEvent = {
  type: "synced",
  tool: "rsync",
  scanned: 3,
  transferred: 3,
  bytes: 100_000_000,
  removed: 0,
  ms: 3000,
};

describe("describeTransfer", () => {
  it("says bytes so far, rate and ETA as people read them", () => {
    expect(describeTransfer(halfway as Extract<RunEvent, { type: "transfer" }>)).toEqual({
      label: "uploading  ",
      detail: "30.5 MiB · 31.3 MiB/s · ETA 2:05",
    });
  });

  it("drops the ETA once done and a rate rsync did not give", () => {
    expect(
      describeTransfer({ type: "transfer", direction: "download", bytes: 2048, percent: 100 })
        .detail,
    ).toBe("2.0 KiB");
  });
});

describe("the bar in the human reporter", () => {
  it("is drawn on a terminal, then cleared before the next line is printed", async () => {
    const stderr = new FakeTerminal({ isTTY: true, columns: 100 });
    const stdout = new FakeTerminal({ isTTY: true, columns: 100 });
    const report = createHumanReporter({ stdout, stderr }, { env: { TERM: "xterm" } });
    report(halfway);
    // cli-progress is loaded on the first report: the bar appears once it is.
    await vi.waitFor(() => expect(stderr.text).toContain("uploading"));
    expect(stderr.text).toContain("31% · 30.5 MiB · 31.3 MiB/s · ETA 2:05");
    const before = stderr.text.length;
    report(synced);
    const after = stderr.text.slice(before);
    // The bar's row is cleared (ESC[2K), then the line is written in its place.
    expect(after.indexOf("\u001b[2K")).toBeGreaterThanOrEqual(0);
    expect(after.indexOf("\u001b[2K")).toBeLessThan(after.indexOf("synced 3 files"));
    report.close();
    const settled = stderr.text.length;
    await new Promise((resolve) => setTimeout(resolve, 250));
    // Stopped: no redraw timer keeps drawing (or keeps offload alive) after the copy.
    expect(stderr.text.length).toBe(settled);
  });

  it("prints nothing but today's lines on a pipe, with --quiet, and in --json", async () => {
    const pipe = new FakeTerminal({ isTTY: false });
    const piped = createHumanReporter({ stdout: pipe, stderr: pipe });
    const quietErr = new FakeTerminal({ isTTY: true });
    const quiet = createHumanReporter(
      { stdout: new FakeTerminal({ isTTY: true }), stderr: quietErr },
      { quiet: true, env: { TERM: "xterm" } },
    );
    const json = new FakeTerminal({ isTTY: false });
    const programs = createJsonReporter({ stdout: json, stderr: json });
    for (const report of [piped, quiet, programs]) {
      report(halfway);
      report(synced);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pipe.text).toBe("› synced 3 files with rsync: 3 sent, 95.4 MiB (3.00 s)\n");
    expect(quietErr.text).toBe("");
    expect(json.text.trim().split("\n")).toHaveLength(1);
    expect(json.text).toContain('"type":"synced"');
    piped.close();
    quiet.close();
  });

  it("turns the env build into one line on a terminal: time so far and pip's latest line", async () => {
    const stderr = new FakeTerminal({ isTTY: true, columns: 120 });
    const stdout = new FakeTerminal({ isTTY: true, columns: 120 });
    const report = createHumanReporter({ stdout, stderr }, { env: { TERM: "xterm" } });
    const pip = (text: string) => report({ type: "env-output", data: Buffer.from(text) });
    pip("Processing ./wheels/tinypkg-1.0-py3-none-any.whl\n");
    pip("Installing collected packages: tinypkg\n");
    await vi.waitFor(() => expect(stderr.text).toContain("python env "));
    expect(stderr.text).toMatch(/python env {2}\d+s · Installing collected packages: tinypkg/);
    // Only the latest line is drawn, and none is printed as a line of its own.
    expect(stderr.text).not.toContain("Processing ./wheels");
    expect(report.showedToolOutput()).toBe(false);
    const before = stderr.text.length;
    report({ type: "env", phase: "built", key: "k", dir: "/envs/k", ms: 1500 });
    const after = stderr.text.slice(before);
    expect(after.indexOf("\u001b[2K")).toBeLessThan(after.indexOf("python env built: /envs/k"));
    report.close();
  });

  it("leaves the env build's output as it is on a pipe", () => {
    const pipe = new FakeTerminal({ isTTY: false });
    const report = createHumanReporter({ stdout: pipe, stderr: pipe });
    report({ type: "env-output", data: Buffer.from("Collecting tinypkg\nInstalling tinypkg\n") });
    expect(pipe.text).toBe("Collecting tinypkg\nInstalling tinypkg\n");
    expect(report.showedToolOutput()).toBe(true);
  });
});
