// bin/offload.js compiles the CommonJS bundle with V8's code cache: written after a command that went
// well, taken by the next run of that command, rewritten when V8 refuses it, and never in the way.
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createBucket, startS3Server, whyNoS3Server } from "../storage/s3-server.js";
import { makeProject, REPO } from "../support/project.js";

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
async function completion(
  cacheHome: string,
  bin = BIN,
): Promise<{ stdout: string; verdict: string }> {
  const { stdout, stderr } = await run(process.execPath, [bin, "completion", "bash"], {
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, OFFLOAD_TRACE: "1" },
  });
  const verdict = /code cache (\w+)/.exec(stderr)?.[1] ?? "no mark";
  return { stdout, verdict };
}

describe.skipIf(!built)("the code cache of bin/offload.js", () => {
  it("removes an old build's cache of the same command when it writes one, not a recent or another's", async () => {
    scratch = mkdtempSync(join(tmpdir(), "offload-code-cache-"));
    const dir = join(scratch, "offload");
    mkdirSync(dir);
    const old = join(dir, "completion-v20.0.0-oldbuild.v8");
    const recent = join(dir, "completion-v20.0.0-otherinstall.v8");
    const other = join(dir, "run-v20.0.0-oldbuild.v8");
    for (const path of [old, recent, other]) writeFileSync(path, "a cache");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    utimesSync(other, twoDaysAgo, twoDaysAgo);
    expect((await completion(scratch)).verdict).toBe("none");
    const left = readdirSync(dir);
    expect(left).not.toContain("completion-v20.0.0-oldbuild.v8");
    expect(left).toEqual(
      expect.arrayContaining(["completion-v20.0.0-otherinstall.v8", "run-v20.0.0-oldbuild.v8"]),
    );
    expect(left).toHaveLength(3);
  });

  it("is written by a first run, taken by the next, and replaced when damaged", async () => {
    scratch = mkdtempSync(join(tmpdir(), "offload-code-cache-"));
    const first = await completion(scratch);
    expect(first.verdict).toBe("none");
    const files = readdirSync(join(scratch, "offload"));
    expect(files).toEqual([expect.stringMatching(/^completion-v\d+\.\d+\.\d+-[a-z0-9]+\.v8$/)]);
    const second = await completion(scratch);
    expect(second).toEqual({ stdout: first.stdout, verdict: "accepted" });
    // A damaged cache is not handed to V8, the command still works, and the cache is replaced.
    writeFileSync(join(scratch, "offload", files[0] ?? ""), "not a code cache");
    const damaged = await completion(scratch);
    expect(damaged).toEqual({ stdout: first.stdout, verdict: "none" });
    expect((await completion(scratch)).verdict).toBe("accepted");
  });

  it("never runs the code of another build of the same length", async () => {
    // V8 alone would take this cache: it checks only the source's length.
    scratch = mkdtempSync(join(tmpdir(), "offload-code-cache-"));
    const install = join(scratch, "install");
    mkdirSync(join(install, "bin"), { recursive: true });
    mkdirSync(join(install, "dist"));
    copyFileSync(BIN, join(install, "bin", "offload.js"));
    copyFileSync(join(REPO, "bin", "package.json"), join(install, "bin", "package.json"));
    const bundle = readFileSync(join(REPO, "dist", "offload.cjs"), "utf8");
    writeFileSync(join(install, "dist", "offload.cjs"), bundle);
    const bin = join(install, "bin", "offload.js");
    const cacheHome = join(scratch, "cache");
    const before = await completion(cacheHome, bin);
    expect(before.stdout).toContain("offload completion for bash");
    expect((await completion(cacheHome, bin)).verdict).toBe("accepted");
    // The rebuilt bundle names its completion function otherwise, in as many characters.
    const rebuilt = bundle.replaceAll("offload completion for bash", "offload completion for bazh");
    expect(rebuilt.length).toBe(bundle.length);
    writeFileSync(join(install, "dist", "offload.cjs"), rebuilt);
    const after = await completion(cacheHome, bin);
    expect(after.verdict).toBe("none");
    expect(after.stdout).toContain("offload completion for bazh");
    expect(after.stdout).not.toContain("offload completion for bash");
    expect((await completion(cacheHome, bin)).verdict).toBe("accepted");
  });

  const noS3 = whyNoS3Server();
  it.skipIf(noS3 !== undefined)(
    "loads what the bundle imports on demand when the code came from the cache",
    async () => {
      // Node 20 drops vm.Script's importModuleDynamically for code read from a cache another process
      // wrote: an import() in the bundle then threw, and a bucket run after any earlier run ended as a
      // bug (exit 250). The SigV4 signer is such an on-demand module.
      scratch = mkdtempSync(join(tmpdir(), "offload-code-cache-"));
      const project = await makeProject();
      const server = await startS3Server("127.0.0.1");
      try {
        const bucket = "offload-cache-test";
        await createBucket(server, `s3://${bucket}/`);
        await project.write(
          "offload.yaml",
          `storage: { endpoint: "${server.endpoint}" }\ndownload: [out/*]\n`,
        );
        const env = {
          ...process.env,
          HOME: project.home,
          XDG_CACHE_HOME: scratch,
          OFFLOAD_TRACE: "1",
          AWS_ACCESS_KEY_ID: server.accessKeyId,
          AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
          AWS_REGION: "us-east-1",
        };
        const offload = (args: string[]) =>
          run(process.execPath, [BIN, "run", "--host", "local", "--quiet", ...args], {
            cwd: project.dir,
            env,
          });
        // The first run writes the `run` command's cache without ever loading the signer.
        await offload(["--", "true"]);
        const second = await offload([
          "--results",
          `s3://${bucket}/runs/`,
          "--",
          "mkdir -p out && echo trained > out/model.txt",
        ]);
        expect(/code cache (\w+)/.exec(second.stderr)?.[1]).toBe("accepted");
        const [, id] = await project.runIds();
        expect(server.requests()).toContain(`PUT /${bucket}/runs/${id}/out/model.txt? 200`);
      } finally {
        await server.stop();
        await project.remove();
      }
    },
    60_000,
  );

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
