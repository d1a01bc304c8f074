// The age of the last checkpoint, as the status line and `offload ps` show it.
import { describe, expect, it } from "vitest";
import { formatRunTable } from "../../src/cli/commands/ps.js";
import { applyStatusEvent, emptyStatus } from "../../src/cli/status-state.js";
import { formatStatusLine } from "../../src/cli/status-text.js";
import type { RunRecord } from "../../src/runs/record.js";
import { makeRecord } from "../support/record.js";

const record = (id: string, checkpoint?: RunRecord["checkpoint"]): RunRecord =>
  makeRecord({
    id,
    command: ["python", "train.py"],
    target: { label: "gpu", kind: "ssh", host: "gpu", remoteDir: "/w" },
    status: "running",
    exitCode: null,
    startedAt: "2026-12-01T10:00:00.000Z",
    ...(checkpoint ? { checkpoint } : {}),
  });

describe("checkpoint age", () => {
  it("ends the status line with the last checkpoint's age", () => {
    const state = emptyStatus();
    applyStatusEvent(state, { type: "progress", source: "pattern", epoch: 3, epochs: 10 }, 1_000);
    expect(formatStatusLine(state, 120)).not.toContain("ckpt");
    state.checkpointAt = 1_000 - 125_000;
    expect(formatStatusLine(state, 120)).toMatch(/^epoch 3\/10 .*ckpt 2m05s ago$/);
  });

  it("gives ps a CKPT column only when a run took checkpoints", () => {
    const now = Date.parse("2026-12-01T10:10:00.000Z");
    expect(formatRunTable([record("20261201-100000-00ab")], new Map(), now)).not.toContain("CKPT");
    const table = formatRunTable(
      [
        record("20261201-100000-00ab"),
        record("20261201-100001-00cd", { at: "2026-12-01T10:09:30.000Z", count: 4, files: 1 }),
      ],
      new Map(),
      now,
    );
    const [header, first, second] = table.split("\n");
    expect(header).toContain("CKPT");
    expect(second).toContain("30.0s ago");
    expect(first?.slice(header?.indexOf("CKPT"), (header?.indexOf("CKPT") ?? 0) + 4)).toBe("-   ");
  });
});
