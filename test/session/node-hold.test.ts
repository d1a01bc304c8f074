// A node's prepare (a job across hosts) that holds its connection, run by the real sh, head and tar on
// this machine: it holds whether or not a sync is needed, unpacks the archive it is sent, runs the
// launch script sent after it, and starts nothing when declined or sent a launch that is not whole.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildLaunchScript } from "../../src/remote/launch.js";
import { LOCK_FILE, MARK, remoteRunDir, STDIN_END } from "../../src/remote/layout.js";
import { buildPrepareScript } from "../../src/remote/prepare.js";
import { execPrepare } from "../../src/session/held-launch.js";
import { untarHeld } from "../../src/session/held-upload.js";
import { createTarArchive } from "../../src/sync/tar-archive.js";
import { LocalTransport } from "../../src/transport/local.js";
import { makeLaunchPlan } from "../support/launch-plan.js";

const RUN = "20261202-090000-node";
const transport = new LocalTransport();
const lock = { runId: RUN, force: false, graceSeconds: 1 };
let dir: string;
let workspace: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "offload node 'q' "));
  workspace = mkdtempSync(join(tmpdir(), "offload node ws "));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
});

const script = (command: string[]) =>
  buildLaunchScript(makeLaunchPlan({ runId: RUN, remoteDir: dir, command, sampleSeconds: 0 }));
const prepareHolding = () =>
  execPrepare(transport, buildPrepareScript(dir, lock, { nodeHold: true }), { node: true });
const spec = `{"id":"${RUN}"}\n${STDIN_END}\n`;

describe("a node's held prepare", () => {
  it("unpacks the first sync's archive it is sent, then runs the launch sent after it", async () => {
    mkdirSync(join(workspace, "data"));
    writeFileSync(join(workspace, "data", "a.txt"), "alpha\n");
    const archive = await createTarArchive(workspace, ["data", "data/a.txt"]);
    const reply = await prepareHolding();
    expect(reply.result.stdout).toContain(`${MARK.dir} ${dir}\n`);
    expect(reply.held?.node).toBe(true);
    expect(await reply.held?.untar?.(archive ?? new Uint8Array())).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, "data", "a.txt"), "utf8")).toBe("alpha\n");
    // Any launch script is taken (it depends on what every node said), and runs in this connection.
    const launch = script(["sh", "-c", "cat data/a.txt"]);
    expect(reply.held?.accepts(launch)).toBe(true);
    let log = "";
    const result = await reply.held?.run(spec, {
      onStdout: (chunk) => {
        log += chunk.toString();
      },
    });
    expect(log).toBe("alpha\n");
    expect(result?.stderr).toContain(`${MARK.exit} 0`);
  });

  it("never writes a step's script, which holds the job's env, to the disk; the job keeps the shell's umask", async () => {
    const reply = await prepareHolding();
    expect(reply.held?.accepts(script(["sh", "-c", "umask"]))).toBe(true);
    let log = "";
    await reply.held?.run(spec, {
      onStdout: (chunk) => {
        log += chunk.toString();
      },
    });
    const runDir = join(dir, remoteRunDir(RUN));
    // What is there is the launch's own (launch.sh and spec.json, 0600): no copy of the step.
    expect(readdirSync(runDir).sort()).not.toContain("held-step");
    expect(statSync(join(runDir, "launch.sh")).mode & 0o777).toBe(0o600);
    expect(Number.parseInt(log.trim(), 8)).toBe(process.umask());
  });

  it("answers a question in a shell of its own, which cannot read the steps that follow", async () => {
    const reply = await prepareHolding();
    // `cat` would swallow the launch if the question shared the held stdin.
    const asked = await reply.held?.ask?.("cat; echo 'offload-node-port 29777' >&2; exit 3");
    expect(asked).toEqual({ code: 3, stderr: "offload-node-port 29777\noffload-held-step 3\n" });
    let log = "";
    expect(reply.held?.accepts(script(["echo", "still held"]))).toBe(true);
    await reply.held?.run(spec, {
      onStdout: (chunk) => {
        log += chunk.toString();
      },
    });
    expect(log).toBe("still held\n");
  });

  it("says what tar said when an archive does not unpack, and still holds for the decline", async () => {
    const reply = await prepareHolding();
    const failed = await reply.held?.untar?.(Buffer.from("not a tar archive at all\n".repeat(40)));
    expect(failed?.code).not.toBe(0);
    expect(failed?.stderr).toMatch(/tar:/);
    await reply.held?.decline();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  it("a step whose connection ends says only what was said since it began (status 255)", async () => {
    const reply = await prepareHolding();
    // The held shell killed during a step, as by a host lost mid-step. The step's reply once carried
    // the prepare's whole reply, which offload then showed as the step's own error.
    expect(await reply.held?.ask?.("kill -9 $$")).toEqual({ code: 255, stderr: "" });
    expect(reply.held?.accepts(script(["touch", "started"]))).toBe(false);
  });

  it("a first sync whose held connection ends mid-tar goes on by the ordinary upload, no tar error", async () => {
    writeFileSync(join(workspace, "a.txt"), "alpha\n");
    const archive = (await createTarArchive(workspace, ["a.txt"])) ?? new Uint8Array();
    const reply = await prepareHolding();
    const asked = await reply.held?.ask?.('echo "held-shell $$" >&2');
    const pid = Number(/held-shell ([0-9]+)/.exec(asked?.stderr ?? "")?.[1]);
    // Stopped first, it cannot read the step, let alone finish it: then killed with the step sent (the
    // archive goes out in microtasks, before any I/O callback), as a host lost mid-tar.
    process.kill(pid, "SIGSTOP");
    const untarred = untarHeld(
      transport,
      { held: reply.held, upload: "tar", gnuTar: true },
      async () => archive,
      1,
    );
    await new Promise((resolve) => setImmediate(resolve));
    process.kill(pid, "SIGKILL");
    // Was E_SYNC "Uploading the workspace failed (status 255)" with a hint about disk space.
    expect(await untarred).toBeUndefined();
  });

  it("starts nothing when declined, keeping the lock for offload to release", async () => {
    const reply = await prepareHolding();
    await reply.held?.decline();
    expect(reply.held?.accepts(script(["touch", "started"]))).toBe(false);
    expect(existsSync(join(dir, "started"))).toBe(false);
    expect(existsSync(join(dir, remoteRunDir(RUN), "launcher.pid"))).toBe(false);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  it("never runs a launch script that does not arrive whole", async () => {
    const launch = script(["touch", "started"]);
    // The connection ends partway through the script: the shell reads to the end of its stdin.
    const cut = `launch ${Buffer.byteLength(launch)}\n${launch.slice(0, launch.length - 40)}`;
    const result = await transport.exec(buildPrepareScript(dir, lock, { nodeHold: true }), {
      stdin: cut,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("a held step did not arrive whole; nothing was started");
    expect(existsSync(join(dir, "started"))).toBe(false);
    expect(existsSync(join(dir, remoteRunDir(RUN), "launcher.pid"))).toBe(false);
  });

  it("takes a host's word that its head is GNU's for the boot it said so in, and asks in another", async () => {
    const tools = mkdtempSync(join(tmpdir(), "offload-head-wrapper-"));
    try {
      // Each `head` the script starts writes its arguments to head.log, then is the real head.
      const real = ["/usr/bin/head", "/bin/head"].find((path) => existsSync(path));
      writeFileSync(
        join(tools, "head"),
        `#!/bin/sh\nprintf '%s\\n' "$*" >> '${tools}/head.log'\nexec ${real} "$@"\n`,
      );
      chmodSync(join(tools, "head"), 0o755);
      const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
      const hold = async (gnuHeadBoot: string) => {
        rmSync(join(tools, "head.log"), { force: true });
        rmSync(join(dir, LOCK_FILE), { force: true });
        const prepare = buildPrepareScript(dir, lock, { nodeHold: true, gnuHeadBoot });
        const reply = await execPrepare(
          transport,
          `PATH='${tools}':$PATH; export PATH\n${prepare}`,
          { node: true },
        );
        await reply.held?.decline();
        const log = existsSync(join(tools, "head.log"))
          ? readFileSync(join(tools, "head.log"), "utf8")
          : "";
        return { gnu: reply.result.stderr.includes("offload-held-head gnu"), log };
      };
      // Said in this boot: no head started at all, and the shell still reads its steps with head -c.
      expect(await hold(boot)).toEqual({ gnu: true, log: "" });
      // Said in another boot (a reboot, or another machine behind the name): asked again.
      expect(await hold("00000000-0000-0000-0000-000000000000")).toEqual({
        gnu: true,
        log: "--version\n",
      });
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
  });

  it("never runs a launch script cut short even where the cut leaves exactly its byte count", async () => {
    const launch = script(["touch", "started"]);
    // A step line whose count matches the bytes that came (as a sender that lost its end would say):
    // only the end line offload appends proves a script whole.
    const cut = launch.slice(0, launch.length - 40);
    const result = await transport.exec(buildPrepareScript(dir, lock, { nodeHold: true }), {
      stdin: `launch ${Buffer.byteLength(cut)}\n${cut}`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("a held step did not arrive whole; nothing was started");
    expect(existsSync(join(dir, "started"))).toBe(false);
    expect(existsSync(join(dir, remoteRunDir(RUN), "launcher.pid"))).toBe(false);
  });
});
