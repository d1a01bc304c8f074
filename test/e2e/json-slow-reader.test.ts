// `run --json` into a reader that stops reading: offload waits for it rather than holding what it has
// not written (peak RSS bounded, after the 150 MB of the README's performance table), and every log line
// still reaches the reader and the run's output.log once it reads again.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
/** The remote dir to remove after the test: its log is 100 MB on a shared host. */
let cleanRemote: (() => void) | undefined;
afterEach(async () => {
  cleanRemote?.();
  cleanRemote = undefined;
  await project?.remove();
  project = undefined;
});

const ENTRY = fileURLToPath(new URL("../support/entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const LINE = "a line of the log that a paused reader has not read yet 0123456789";
const LINES = 1_500_000;
/** The reader starts reading once this much log is on this machine, unread by it. */
const PAUSED_UNTIL_BYTES = 64 * 1024 * 1024;

/** Peak RSS (KiB) of the CLI started from the sources doing nothing (`--version`). */
function peakOfStart(cwd: string): number {
  const result = spawnSync(
    "/usr/bin/time",
    ["-f", "peak-rss-kib %M", process.execPath, "--import", TSX, ENTRY, "--version"],
    { cwd, encoding: "utf8" },
  );
  return Number(/peak-rss-kib ([0-9]+)/.exec(result.stderr)?.[1]);
}

describeWithHosts(1, "run --json into a slow reader", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";

  it("waits for a paused reader with its memory bounded, and loses no line", async () => {
    project = await makeProject();
    const p = project;
    const remote = `json-slow-${process.pid}`;
    cleanRemote = () =>
      execFileSync("ssh", [
        "-F",
        bed.sshConfig,
        "-o",
        "ConnectTimeout=5",
        host,
        `rm -rf ${remote}`,
      ]);
    // time's %M: the peak RSS (KiB) of the largest process it waited for (node, or one of its ssh).
    const child = spawn(
      "/usr/bin/time",
      ["-f", "peak-rss-kib %M", process.execPath, "--import", TSX, ENTRY, "run"]
        .concat(["--ssh-config", bed.sshConfig, "--host", `${host}/${remote}`, "--json", "--"])
        .concat(["sh", "-c", `yes '${LINE}' | head -n ${LINES}`]),
      { cwd: p.dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number>((resolve) =>
      child.on("close", (code) => resolve(code ?? -1)),
    );
    // Not a byte read until the job's log has piled up on this machine (ssh appends it there itself).
    const logBytes = async () => {
      const [id] = await p.runIds();
      try {
        return id ? statSync(join(p.dir, ".offload/runs", id, "output.log")).size : 0;
      } catch {
        return 0;
      }
    };
    let paused = await logBytes();
    while (paused < PAUSED_UNTIL_BYTES && child.exitCode === null) {
      await sleep(100);
      paused = await logBytes();
    }
    let outputs = 0;
    let tail = "";
    let last = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (tail + chunk.toString("utf8")).split("\n");
      tail = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes('"type":"output"')) outputs += 1;
        last = line;
      }
    });
    const code = await exited;
    const peakKiB = Number(/peak-rss-kib ([0-9]+)/.exec(stderr)?.[1]);
    const startKiB = peakOfStart(p.dir);
    console.log(
      `json slow reader: peak RSS ${(peakKiB / 1024).toFixed(1)} MiB, ${((peakKiB - startKiB) / 1024).toFixed(1)} MiB over a bare start (${(startKiB / 1024).toFixed(1)} MiB under tsx), reader paused until ${(paused / 2 ** 20).toFixed(0)} MiB of log`,
    );
    expect(code, stderr).toBe(0);
    expect(paused).toBeGreaterThanOrEqual(PAUSED_UNTIL_BYTES);
    expect(outputs).toBe(LINES);
    expect(JSON.parse(last)).toMatchObject({ type: "finished", exitCode: 0 });
    const [id = ""] = await p.runIds();
    expect((await p.localLog(id)).length).toBe((LINE.length + 1) * LINES);
    // A spec'd bound, not a timing: the README's 150 MB peak for the built CLI, less the ~50 MB its bare
    // start takes, is what the run may add. Measured over a start from the sources here (tsx's loader
    // adds ~36 MB to both): 55 MiB with the bound, 114 MiB with events queued for the reader.
    expect(peakKiB - startKiB).toBeLessThan((100 * 1e6) / 1024);
  });
});
