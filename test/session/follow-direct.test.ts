// Where the target's stdout is clean, a stream's child appends the log to output.log itself and offload
// reads it back: the file, the output events and the resume offset are what a pipe gave, byte for byte.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events.js";
import { openAppend } from "../../src/runs/log-sinks.js";
import { streamOnce } from "../../src/session/follow.js";
import { LocalTransport } from "../../src/transport/local.js";
import type { ExecOptions } from "../../src/transport/types.js";

/** 3 MB in bursts with pauses (the reader wakes on growth), the last line without a break. */
const SCRIPT = `i=0; while [ $i -lt 30 ]; do head -c 100000 /dev/zero | tr '\\0' "$((i % 10))"; [ $((i % 10)) = 0 ] && sleep 0.05; i=$((i + 1)); done; printf 'tail line without a break'`;

function expected(): string {
  let text = "";
  for (let i = 0; i < 30; i++) text += String(i % 10).repeat(100000);
  return `${text}tail line without a break`;
}

/** The real local transport; records how each script's stdout was asked for. */
function recordingTransport(clean: boolean): { transport: LocalTransport; asked: ExecOptions[] } {
  const transport = new LocalTransport();
  const asked: ExecOptions[] = [];
  const exec = transport.exec.bind(transport);
  Object.assign(transport, {
    cleanStdout: clean,
    exec: (script: string, options: ExecOptions = {}) => {
      asked.push(options);
      return exec(script, options);
    },
  });
  return { transport, asked };
}

async function stream(clean: boolean, before: string) {
  const dir = mkdtempSync(join(tmpdir(), "offload-direct-"));
  const path = join(dir, "output.log");
  const seed = openAppend(path, () => {});
  seed.write(Buffer.from(before));
  seed.close();
  const sink = openAppend(path, () => {});
  const { transport, asked } = recordingTransport(clean);
  const shown: Buffer[] = [];
  const report = (event: RunEvent) => {
    if (event.type === "output") shown.push(Buffer.from(event.data));
  };
  await streamOnce(
    { transport, remoteDir: dir, runId: "x", sink, report, reconnectTimeoutMs: 0 },
    SCRIPT,
  );
  const size = sink.size;
  sink.close();
  return {
    file: readFileSync(path, "latin1"),
    shown: Buffer.concat(shown).toString("latin1"),
    size,
    asked,
  };
}

describe("a stream straight into the log file", () => {
  it("appends after what the file had, shows the same bytes, and counts them for the resume", async () => {
    const direct = await stream(true, "from an earlier attempt\n");
    expect(direct.asked[0]?.stdoutFd).toBeTypeOf("number");
    expect(direct.asked[0]?.onStdout).toBeUndefined();
    expect(direct.file).toBe(`from an earlier attempt\n${expected()}`);
    expect(direct.shown).toBe(expected());
    expect(direct.size).toBe(direct.file.length);
  });

  it("goes through the framed pipe where the stdout is not known clean, with the same result", async () => {
    const piped = await stream(false, "from an earlier attempt\n");
    expect(piped.asked[0]?.stdoutFd).toBeUndefined();
    expect(piped.file).toBe(`from an earlier attempt\n${expected()}`);
    expect(piped.shown).toBe(expected());
    expect(piped.size).toBe(piped.file.length);
  });
});
