import { describe, expect, it } from "vitest";
import {
  createStdoutFrame,
  STDERR_START,
  STDOUT_START,
  stderrAfterMark,
} from "../../src/transport/frame.js";

describe("stdout framing", () => {
  it("drops what precedes the start mark, also when the mark is split across chunks", () => {
    const stream = Buffer.from(`junk 1\njunk 2\npartial${STDOUT_START}payload\u0001offload\n`);
    for (let cut = 0; cut <= stream.length; cut++) {
      for (let second = cut; second <= stream.length; second += 7) {
        const frame = createStdoutFrame();
        const out = [stream.subarray(0, cut), stream.subarray(cut, second), stream.subarray(second)]
          .map((chunk) => frame.push(chunk))
          .map((chunk) => chunk.toString("latin1"))
          .join("");
        expect(out).toBe("payload\u0001offload\n");
        expect(frame.started).toBe(true);
        expect(frame.noisy).toBe(true);
      }
    }
  });

  it("passes nothing through while the mark has not come", () => {
    const frame = createStdoutFrame();
    expect(frame.push(Buffer.from("offload-stdout-sta")).length).toBe(0);
    expect(frame.started).toBe(false);
  });

  it("calls a stream clean only when the mark is its first byte, wherever the chunks are cut", () => {
    const stream = Buffer.from(`${STDOUT_START}payload`);
    for (let cut = 0; cut <= stream.length; cut++) {
      const frame = createStdoutFrame();
      frame.push(stream.subarray(0, cut));
      frame.push(stream.subarray(cut));
      expect(frame.started).toBe(true);
      expect(frame.noisy).toBe(false);
    }
    const late = createStdoutFrame();
    late.push(Buffer.from("x"));
    late.push(stream);
    expect(late.noisy).toBe(true);
  });
});

describe("stderr framing", () => {
  it("starts the markers at a line of their own after a login shell's noise without a newline", () => {
    const frame = createStdoutFrame(STDERR_START);
    const out = frame.push(Buffer.from(`noise from bashrc${STDERR_START}offload-launched 42\n`));
    expect(out.toString()).toBe("offload-launched 42\n");
    expect(stderrAfterMark(`noise${STDERR_START}said\n`)).toBe("said\n");
  });

  it("keeps all of stderr where the script never ran: ssh's own words say why", () => {
    const said = "ssh: connect to host h1 port 22: Connection refused\n";
    expect(stderrAfterMark(said)).toBe(said);
  });
});
