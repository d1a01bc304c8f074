// A run record for tests that save, read or render records: every required field at a plain value, the
// test's own fields over them.
import type { RunRecord } from "../../src/runs/record.js";

export function makeRecord(fields: Partial<RunRecord> = {}): RunRecord {
  return {
    version: 1,
    id: "20260101-000000-abcd",
    command: ["true"],
    target: { label: "local", kind: "local", remoteDir: "/tmp/x" },
    status: "succeeded",
    exitCode: 0,
    startedAt: "2026-01-01T00:00:00.000Z",
    phases: {},
    envNames: [],
    download: [],
    artifacts: [],
    mappedFiles: [],
    logBytes: 0,
    ...fields,
  };
}
