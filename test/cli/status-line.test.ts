// The live status line: its text, its throttle, and how the human reporter uses it on a terminal
// and leaves it out everywhere else.
import { describe, expect, it } from "vitest";
import { createHumanReporter } from "../../src/cli/render.js";
import { createStatusLine } from "../../src/cli/status-line.js";
import { applyStatusEvent, emptyStatus, readMachineLoad } from "../../src/cli/status-state.js";
import { formatStatusLine } from "../../src/cli/status-text.js";
import type { RunEvent } from "../../src/events.js";
import { FakeTerminal } from "./fake-terminal.js";

const ESC = "\x1b";
/** The layout tests read plain text; colour has tests of its own below. */
const PLAIN = { NO_COLOR: "1" };
const bytes = (text: string): RunEvent => ({ type: "output", data: Buffer.from(text) });
const progress = (fields: object): RunEvent => ({ type: "progress", source: "tqdm", ...fields });
const metric = (name: string, value: number): RunEvent => ({
  type: "metric",
  name,
  value,
  source: "tqdm",
});

/** Lets the status line draw: it waits for the rest of the events of the same tick. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("formatStatusLine", () => {
  it("shows epoch, step, percent, rate, ETA and the metrics in the log's order", () => {
    const state = emptyStatus();
    applyStatusEvent(state, {
      type: "progress",
      source: "tqdm",
      epoch: 2,
      epochs: 10,
      step: 450,
      steps: 1000,
      rate: 36.5,
      etaSeconds: 75,
    });
    applyStatusEvent(state, { type: "metric", name: "loss", value: 0.1234567, source: "tqdm" });
    applyStatusEvent(state, { type: "metric", name: "acc", value: 0.875, source: "tqdm" });
    expect(formatStatusLine(state, 200)).toBe(
      "epoch 2/10  step 450/1000  █████░░░░░░░ 45%  36.5 it/s  ETA 1:15  loss 0.1235  acc 0.875",
    );
  });

  it("shows the host's GPU % where it has GPUs, else its CPU %", () => {
    const state = emptyStatus();
    applyStatusEvent(state, { type: "metric", name: "loss", value: 1, source: "tqdm" });
    state.machine = readMachineLoad({ cpuPercent: 41.6, gpus: [] });
    expect(formatStatusLine(state, 80)).toBe("loss 1  CPU 42%");
    // MIG GPUs report no utilisation: the mean of those that do.
    state.machine = readMachineLoad({
      cpuPercent: 12,
      gpus: [{ utilizationPercent: 100 }, {}, { utilizationPercent: 70 }],
    });
    expect(formatStatusLine(state, 80)).toBe("loss 1  GPU 85%");
  });

  it("keeps only the latest state of a bar that reports many times a second", () => {
    const state = emptyStatus();
    for (let step = 1; step <= 500; step++)
      applyStatusEvent(state, { type: "progress", source: "tqdm", step, steps: 500 });
    applyStatusEvent(state, { type: "metric", name: "loss", value: 2, source: "tqdm" });
    applyStatusEvent(state, { type: "metric", name: "loss", value: 1, source: "tqdm" });
    expect(formatStatusLine(state, 80)).toBe("step 500/500  ████████████ 100%  loss 1");
  });

  it("forgets the old epoch's step when a new epoch starts", () => {
    const state = emptyStatus();
    applyStatusEvent(state, { type: "progress", source: "keras", epoch: 1, epochs: 3 });
    applyStatusEvent(state, { type: "progress", source: "keras", step: 40, steps: 40 });
    applyStatusEvent(state, { type: "progress", source: "keras", epoch: 2 });
    // One of three epochs done: the percent of the run, as the log gives no bar yet.
    expect(formatStatusLine(state, 80)).toBe("epoch 2/3  ████░░░░░░░░ 33%");
  });

  it("never reaches the last column: metrics that do not fit are left out, then the text is cut", () => {
    const state = emptyStatus();
    applyStatusEvent(state, {
      type: "progress",
      source: "tqdm",
      epoch: 1,
      epochs: 2,
      step: 5,
      steps: 10,
    });
    for (const name of ["a_long_metric_name", "another_long_one", "third"])
      applyStatusEvent(state, { type: "metric", name, value: 1, source: "tqdm" });
    const line = formatStatusLine(state, 60);
    expect(line.length).toBeLessThanOrEqual(59);
    expect(line).toBe("epoch 1/2  step 5/10  ██████░░░░░░ 50%  another_long_one 1");
    expect(formatStatusLine(state, 20)).toHaveLength(19);
    expect(formatStatusLine(state, 20).endsWith("…")).toBe(true);
  });

  it("drops an older epoch's metrics when a new epoch starts, and keeps the log's order", () => {
    const state = emptyStatus();
    const at = (epoch: number, name: string, value: number) =>
      applyStatusEvent(state, { type: "metric", name, value, epoch, source: "keras" });
    applyStatusEvent(state, { type: "progress", source: "keras", epoch: 1, epochs: 3 });
    at(1, "loss", 0.5);
    at(1, "val_loss", 0.6);
    applyStatusEvent(state, { type: "progress", source: "keras", epoch: 2 });
    at(2, "loss", 0.4);
    expect(formatStatusLine(state, 80)).toBe("epoch 2/3  ████░░░░░░░░ 33%  loss 0.4");
    at(2, "loss", 0.3);
    at(2, "val_loss", 0.35);
    expect(formatStatusLine(state, 80)).toBe(
      "epoch 2/3  ████░░░░░░░░ 33%  loss 0.3  val_loss 0.35",
    );
  });

  it("derives the rate and ETA from epoch timing when the log prints neither", () => {
    const state = emptyStatus();
    // `Epoch 1/10 - loss: …` once an epoch, 30 s apart.
    for (const epoch of [1, 2, 3])
      applyStatusEvent(
        state,
        { type: "progress", source: "epoch", epoch, epochs: 10 },
        epoch * 30_000,
      );
    expect(formatStatusLine(state, 80)).toBe("epoch 3/10  ██░░░░░░░░░░ 20%  30.0s/epoch  ETA 4:00");
  });

  it("derives the rate and ETA from the steps when a bar prints none (Lightning's n/?)", () => {
    const state = emptyStatus();
    applyStatusEvent(state, { type: "progress", source: "tqdm", epoch: 0, step: 10 }, 0);
    applyStatusEvent(state, { type: "progress", source: "tqdm", epoch: 0, step: 30 }, 4000);
    expect(formatStatusLine(state, 80)).toBe("epoch 0  step 30  5 it/s");
    applyStatusEvent(state, { type: "progress", source: "tqdm", step: 50, steps: 100 }, 8000);
    expect(formatStatusLine(state, 80)).toBe(
      "epoch 0  step 50/100  ██████░░░░░░ 50%  5 it/s  ETA 0:10",
    );
  });

  it("takes Hugging Face's fractional epochs as one epoch, and times them", () => {
    const state = emptyStatus();
    applyStatusEvent(state, { type: "progress", source: "hf", epochs: 3 }, 0);
    applyStatusEvent(state, { type: "progress", source: "hf", step: 100, steps: 600 }, 0);
    applyStatusEvent(state, { type: "progress", source: "hf", epoch: 0.5 }, 0);
    applyStatusEvent(state, { type: "progress", source: "hf", epoch: 1, step: 200 }, 60_000);
    // 100 steps a minute; the step bar says how far, the epochs how many there are.
    expect(formatStatusLine(state, 90)).toBe(
      "epoch 1/3  step 200/600  ████░░░░░░░░ 33%  1.7 it/s  ETA 4:00",
    );
  });

  it("shows the unfinished log line while nothing was parsed", () => {
    const state = emptyStatus();
    state.partial = "Downloading weights… ";
    expect(formatStatusLine(state, 80)).toBe("Downloading weights…");
  });
});

describe("createStatusLine", () => {
  it("redraws in place at most once an interval and draws the latest state when it comes due", async () => {
    const term = new FakeTerminal({ isTTY: true, columns: 80 });
    let clock = 1000;
    const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
    const status = createStatusLine(term, {
      env: PLAIN,
      intervalMs: 100,
      now: () => clock,
      schedule: (fn, ms) => {
        const timer = { fn, ms, cancelled: false };
        timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
    });
    status.update({ type: "progress", source: "tqdm", step: 1, steps: 100 });
    await settle();
    expect(term.chunks).toHaveLength(1);
    expect(term.text).toBe(`\r${ESC}[2Kstep 1/100  ░░░░░░░░░░░░ 1%`);
    for (let step = 2; step <= 50; step++) {
      clock += 1;
      status.update({ type: "progress", source: "tqdm", step, steps: 100 });
      await settle();
    }
    // 49 updates inside the interval: no draw yet, one pending redraw.
    expect(term.chunks).toHaveLength(1);
    expect(timers).toHaveLength(1);
    expect(timers[0]?.ms).toBe(99);
    clock += 99;
    timers[0]?.fn();
    expect(term.chunks).toHaveLength(2);
    expect(term.chunks[1]).toBe(`\r${ESC}[2Kstep 50/100  ██████░░░░░░ 50%`);
    status.update({ type: "progress", source: "tqdm", step: 51, steps: 100 });
    await settle();
    status.close();
    expect(timers[1]?.cancelled).toBe(true);
    expect(term.chunks.at(-1)).toBe(`\r${ESC}[2K`);
  });

  it("takes a terminal that reports no size (a bare pty says 0 columns) as 80 wide", async () => {
    const term = new FakeTerminal({ isTTY: true, columns: 0 });
    const status = createStatusLine(term, { env: PLAIN });
    status.update({ type: "progress", source: "epoch", epoch: 1, epochs: 3 });
    status.update({ type: "metric", name: "loss", value: 0.25, source: "epoch" });
    await settle();
    // One draw for the two events of the same tick.
    expect(term.chunks).toEqual([`\r${ESC}[2Kepoch 1/3  ░░░░░░░░░░░░ 0%  loss 0.25`]);
    status.close();
  });
});

describe("the human reporter", () => {
  const run: RunEvent[] = [
    { type: "launched", runId: "r1", remoteDir: "/w", ms: 5 },
    bytes("Epoch 1/2 - loss: 0.5\n"),
    progress({ epoch: 1, epochs: 2 }),
    metric("loss", 0.5),
    bytes(" 50%|█████     | 5/10 [00:01<00:01, 5.00it/s]"),
    progress({ step: 5, steps: 10, percent: 50, rate: 5, etaSeconds: 1 }),
    bytes("\r100%|██████████| 10/10 [00:02<00:00, 5.00it/s]\n"),
    bytes("done\n"),
    { type: "finished", runId: "r1", exitCode: 0, status: "succeeded", ms: 2000 },
  ];

  it("on a terminal: log lines whole on stdout, one status line on stderr, cleared at the end", async () => {
    const stdout = new FakeTerminal({ isTTY: true, columns: 100 });
    const stderr = new FakeTerminal({ isTTY: true, columns: 100 });
    const report = createHumanReporter({ stdout, stderr }, { env: PLAIN });
    for (const event of run) {
      report(event);
      await settle();
    }
    // The bar reaches stdout once its line ends, byte for byte.
    expect(stdout.text).toBe(
      "Epoch 1/2 - loss: 0.5\n 50%|█████     | 5/10 [00:01<00:01, 5.00it/s]\r100%|██████████| 10/10 [00:02<00:00, 5.00it/s]\ndone\n",
    );
    expect(stdout.text).not.toContain(ESC);
    expect(stderr.text).toContain("epoch 1/2");
    expect(stderr.text).toContain("loss 0.5");
    expect(stderr.text).toContain(`\r${ESC}[2K`);
    // The status line is cleared before the final line, which ends the output.
    expect(stderr.text.endsWith(`\r${ESC}[2K✓ run r1 finished (exit 0) in 2.00 s\n`)).toBe(true);
  });

  it("without a terminal: the log as it came, plain lines, no status line and no escape codes", () => {
    const stdout = new FakeTerminal({ isTTY: false });
    const stderr = new FakeTerminal({ isTTY: false });
    // CI=true alone turns picocolors' colour on for any stream; a pipe must stay plain all the same.
    const report = createHumanReporter({ stdout, stderr }, { env: { CI: "true" } });
    for (const event of run) report(event);
    expect(stdout.text).toBe(
      "Epoch 1/2 - loss: 0.5\n 50%|█████     | 5/10 [00:01<00:01, 5.00it/s]\r100%|██████████| 10/10 [00:02<00:00, 5.00it/s]\ndone\n",
    );
    expect(stderr.text).toBe("› run r1 started in /w\n✓ run r1 finished (exit 0) in 2.00 s\n");
    expect(stderr.text).not.toContain(ESC);
  });

  it("shows no status line on a dumb terminal", () => {
    const stdout = new FakeTerminal({ isTTY: true });
    const stderr = new FakeTerminal({ isTTY: true });
    const report = createHumanReporter({ stdout, stderr }, { env: { TERM: "dumb" } });
    for (const event of run) report(event);
    expect(stderr.text).toBe("› run r1 started in /w\n✓ run r1 finished (exit 0) in 2.00 s\n");
  });

  it("shows no status line with --quiet, even on a terminal", () => {
    const stdout = new FakeTerminal({ isTTY: true });
    const stderr = new FakeTerminal({ isTTY: true });
    const report = createHumanReporter({ stdout, stderr }, { quiet: true, env: PLAIN });
    for (const event of run) report(event);
    expect(stderr.text).not.toContain(ESC);
    expect(stderr.text).not.toContain("epoch 1/2");
  });

  it("close() ends an unfinished log line on stderr and clears the status line, as before an error", async () => {
    const stdout = new FakeTerminal({ isTTY: true });
    const stderr = new FakeTerminal({ isTTY: true });
    const report = createHumanReporter({ stdout, stderr }, { env: PLAIN });
    report(bytes("loading data"));
    await settle();
    expect(stdout.text).toBe("");
    expect(stderr.text).toContain("loading data");
    report.close();
    // stdout is the log byte for byte; the line break that keeps messages off it goes to stderr.
    expect(stdout.text).toBe("loading data");
    expect(stderr.text.endsWith(`\r${ESC}[2K\n`)).toBe(true);
  });

  it("adds no byte to a piped log that ends without a line break", () => {
    const stdout = new FakeTerminal({ isTTY: false });
    const stderr = new FakeTerminal({ isTTY: false });
    const report = createHumanReporter({ stdout, stderr }, { env: PLAIN });
    report(bytes("a\nb"));
    report({ type: "finished", runId: "r1", exitCode: 0, status: "succeeded", ms: 2000 });
    report.close();
    expect(stdout.text).toBe("a\nb");
    expect(stderr.text).toBe("\n✓ run r1 finished (exit 0) in 2.00 s\n");
  });

  it("colours a terminal unless NO_COLOR, and a pipe only with FORCE_COLOR", () => {
    const finished: RunEvent = {
      type: "finished",
      runId: "r1",
      exitCode: 0,
      status: "succeeded",
      ms: 10,
    };
    const render = (isTTY: boolean, env: NodeJS.ProcessEnv) => {
      const stderr = new FakeTerminal({ isTTY });
      createHumanReporter({ stdout: new FakeTerminal({ isTTY }), stderr }, { env })(finished);
      return stderr.text;
    };
    const green = `${ESC}[32m✓${ESC}[39m`;
    expect(render(true, {})).toContain(green);
    expect(render(true, { NO_COLOR: "1" })).toBe("✓ run r1 finished (exit 0) in 0.01 s\n");
    expect(render(false, { CI: "true" })).not.toContain(ESC);
    expect(render(false, { FORCE_COLOR: "1" })).toContain(green);
  });
});
