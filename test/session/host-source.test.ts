// The HostSource seam: `runJob` acquires its host before anything is prepared there and gives it back
// whatever the end (success, a failed job, a launch refused, a Ctrl+C). Real runs on the local target.
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/load.js";
import type { HostSource, RunContext } from "../../src/context.js";
import { createRunContext } from "../../src/create.js";
import { isOffloadError } from "../../src/errors.js";
import type { RunEvent } from "../../src/events.js";
import { runJob } from "../../src/session/run.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "offload-hosts-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** A host source that lends the configured host and writes down what happened, in order. */
function recordingHosts(seen: string[]): HostSource {
  return {
    acquire: async (context) => {
      // Nothing of the run exists yet: no record, no remote dir.
      const runs = await readdir(join(context.projectDir, ".offload", "runs")).catch(() => []);
      seen.push(`acquire (runs: ${runs.length})`);
      return {
        context: { ...context, report: (event) => seen.push(event.type) },
        release: async () => {
          seen.push("release");
        },
      };
    },
  };
}

async function localContext(seen: string[], remoteDir = join(root, "remote")) {
  const projectDir = join(root, "project");
  await mkdir(projectDir, { recursive: true });
  const { settings } = await loadSettings({
    projectDir,
    homeDir: join(root, "home"),
    env: {},
    cli: { host: "local", remote_dir: remoteDir },
  });
  const context = createRunContext({ projectDir, settings });
  return { ...context, hosts: recordingHosts(seen) } satisfies RunContext;
}

describe("runJob's host source", () => {
  it("acquires before the connect and releases after the run has ended", async () => {
    const seen: string[] = [];
    const context = await localContext(seen);
    const record = await runJob(context, { command: ["sh", "-c", "echo hi"] });
    expect(record.status).toBe("succeeded");
    expect(seen[0]).toBe("acquire (runs: 0)");
    expect(seen[1]).toBe("connecting");
    expect(seen.at(-2)).toBe("finished");
    expect(seen.at(-1)).toBe("release");
  });

  it("releases after a job that fails", async () => {
    const seen: string[] = [];
    const context = await localContext(seen);
    const record = await runJob(context, { command: ["sh", "-c", "exit 3"] });
    expect(record.exitCode).toBe(3);
    expect(seen.at(-1)).toBe("release");
  });

  it("releases when the run fails before it starts (a remote dir that cannot be made)", async () => {
    const seen: string[] = [];
    const context = await localContext(seen, "/proc/offload-cannot-write-here");
    const error = await runJob(context, { command: ["true"] }).catch((caught: unknown) => caught);
    expect(isOffloadError(error) && error.code).toBe("E_SYNC");
    expect(seen).toEqual(["acquire (runs: 0)", "connecting", "release"]);
  });

  it("releases after a stop request (the first Ctrl+C) ends the run", async () => {
    const seen: string[] = [];
    const base = await localContext(seen);
    const stop = new AbortController();
    // Ctrl+C once the job is running: its first line is out.
    const context: RunContext = {
      ...base,
      controls: { stop: stop.signal },
      hosts: {
        acquire: async (ctx) => {
          const lent = await recordingHosts(seen).acquire(ctx);
          const report = lent.context.report;
          return {
            ...lent,
            context: {
              ...lent.context,
              report: (event: RunEvent) => {
                report(event);
                if (event.type === "output") stop.abort();
              },
            },
          };
        },
      },
    };
    const record = await runJob(context, {
      command: ["sh", "-c", "echo started; sleep 60"],
    });
    expect(record.status).toBe("stopped");
    expect(seen.at(-1)).toBe("release");
  });
});
