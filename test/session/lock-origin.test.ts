// Whether a lock's holder is an offload of this machine that is gone: proven on real processes, and
// never said of a live one or of another machine's.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { isDeadLocalOrigin, localOrigin } from "../../src/session/lock-origin.js";
import { identityOf } from "../support/proc.js";

describe("lock origins", () => {
  it("this process is alive; a process that has ended, or a reused pid, is dead; another machine's never", async () => {
    const mine = localOrigin();
    expect(mine).toMatch(/^[0-9a-f]+-[0-9a-f]+\/[0-9]+\/[0-9]+$/);
    const origin = mine ?? "";
    const machine = origin.split("/")[0];
    expect(isDeadLocalOrigin(origin)).toBe(false);

    const child = spawn("sleep", ["30"]);
    const [pid, start] = identityOf(child.pid).split(" ");
    const childOrigin = `${machine}/${pid}/${start}`;
    expect(isDeadLocalOrigin(childOrigin)).toBe(false);
    // The same pid with another start time: a process that reuses the pid is not the holder.
    expect(isDeadLocalOrigin(`${machine}/${pid}/${Number(start) + 1}`)).toBe(true);
    // Another machine's holder is never said dead, whatever runs here under its pid.
    expect(isDeadLocalOrigin(`feedbeef-0000/${pid}/${Number(start) + 1}`)).toBe(false);
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(isDeadLocalOrigin(childOrigin)).toBe(true);
  });
});
