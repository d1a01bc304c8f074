// bin/offload.js compiles the CommonJS bundle with V8's code cache: written after a command that went
// well, taken by the next run of that command, rewritten when V8 refuses it, and never in the way.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { REPO } from "../support/project.js";

const run = promisify(execFile);
const BIN = join(REPO, "bin", "offload.js");
const built = existsSync(join(REPO, "dist", "offload.cjs"));
if (!built)
  process.stderr.write("[code-cache] skipping: dist/offload.cjs is missing (npm run build)\n");

let scratch: string | undefined;
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** `offload completion bash` with the cache under `cacheHome`: its output and the cache's verdict. */
async function completion(cacheHome: string): Promise<{ stdout: string; verdict: string }> {
  const { stdout, stderr } = await run(process.execPath, [BIN, "completion", "bash"], {
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, OFFLOAD_TRACE: "1" },
  });
  const verdict = /code cache (\w+)/.exec(stderr)?.[1] ?? "no mark";
  return { stdout, verdict };
}

describe.skipIf(!built)("the code cache of bin/offload.js", () => {
  it("is written by a first run, taken by the next, and rewritten when refused", async () => {
    scratch = mkdtempSync(join(tmpdir(), "offload-code-cache-"));
    const first = await completion(scratch);
    expect(first.verdict).toBe("none");
    const files = readdirSync(join(scratch, "offload"));
    expect(files).toEqual([expect.stringMatching(/^completion-v\d+\.\d+\.\d+-[a-z0-9]+\.v8$/)]);
    const second = await completion(scratch);
    expect(second).toEqual({ stdout: first.stdout, verdict: "accepted" });
    // A damaged cache (or one of another build) is refused, the command still works, and it is replaced.
    writeFileSync(join(scratch, "offload", files[0] ?? ""), "not a code cache");
    const damaged = await completion(scratch);
    expect(damaged).toEqual({ stdout: first.stdout, verdict: "rejected" });
    expect((await completion(scratch)).verdict).toBe("accepted");
  });

  it("runs the command where no cache can be written", async () => {
    scratch = mkdtempSync(join(tmpdir(), "offload-code-cache-"));
    const notADir = join(scratch, "file");
    writeFileSync(notADir, "");
    const once = await completion(notADir);
    const twice = await completion(notADir);
    expect(once.verdict).toBe("none");
    expect(twice.verdict).toBe("none");
    expect(twice.stdout).toContain("complete");
  });
});
