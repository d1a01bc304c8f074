// `offload forward` reaches an HTTP server that listens only on a test-bed host's own 127.0.0.1, over the
// ControlMaster; a local port already in use moves the forward to the next free one, and the forward is
// gone once `offload forward` ends.
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts, processesInHost } from "../testbed/index.js";

let project: TempProject | undefined;
let blocker: Server | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
  blocker = undefined;
  await project?.remove();
  project = undefined;
});

describeWithHosts(2, "offload forward", (bed) => {
  // A calm host: h3 and h4 take the fault tests, whose drops would cut a forward mid-test.
  const host = bed.hosts[1] ?? "offload-h2";
  const ssh = (command: string) =>
    execFileSync("ssh", ["-F", bed.sshConfig, "-o", "ConnectTimeout=5", host, command]).toString();

  /** Serves `word` as /hello.txt on the host's own loopback at `port` until the test ends. */
  function serveOnHost(port: number, word: string): void {
    const dir = `/tmp/offload-forward-${port}-${process.pid}`;
    const pid = ssh(
      `mkdir -p ${dir} && echo ${word} > ${dir}/hello.txt && cd ${dir} && { setsid nohup python3 -m http.server --bind 127.0.0.1 ${port} >/dev/null 2>&1 & echo $!; }`,
    ).trim();
    cleanups.push(() => ssh(`kill ${pid}; rm -rf ${dir}`));
    // Not reachable from here without a forward: it listens on the host's loopback.
    ssh(
      `i=0; while [ $i -lt 100 ] && ! python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}/')" 2>/dev/null; do i=$((i+1)); sleep 0.1; done`,
    );
  }

  it("forwards a port the host serves on its loopback only, moves off a taken local port, and ends", async () => {
    project = await makeProject();
    await project.write("train.py", "print('hi')\n");
    const port = 21000 + (process.pid % 1000);
    const word = `served-by-${host}-${process.pid}`;
    serveOnHost(port, word);
    // The same port taken here: the forward must move on and say so.
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(port, "127.0.0.1", resolve));

    let printed = "";
    let cliPid: number | undefined;
    const done = runCli(["forward", "--ssh-config", bed.sshConfig, "--host", host, String(port)], {
      cwd: project.dir,
      timeoutMs: 120_000,
      onSpawn: (p) => {
        cliPid = p;
      },
      onStdout: (text) => {
        printed += text;
      },
    });
    for (let i = 0; i < 300 && !printed.includes("\n"); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const match = /^http:\/\/127\.0\.0\.1:([0-9]+)\/ {2}-> {2}(\S+):([0-9]+)$/m.exec(printed);
    expect(match?.slice(2)).toEqual([host, String(port)]);
    const local = Number(match?.[1]);
    expect(local).toBeGreaterThan(port);
    const served = await fetch(`http://127.0.0.1:${local}/hello.txt`);
    expect((await served.text()).trim()).toBe(word);

    // A session holds the master open while the forward lives (ControlPersist counts no forward).
    const holding = () =>
      processesInHost(host).filter((proc) => proc.cmdline.includes("offload-forward-hold"));
    for (let i = 0; i < 100 && holding().length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(holding().length).toBeGreaterThan(0);

    if (cliPid === undefined) throw new Error("offload forward did not start");
    process.kill(cliPid, "SIGTERM");
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `local port ${port} is in use: port ${port} is on ${local} instead`,
    );
    // The ControlMaster lives on (other commands share it), the forward does not.
    const after = await fetch(`http://127.0.0.1:${local}/hello.txt`).then(
      () => "answered",
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    expect(after).toBe("ECONNREFUSED");
    for (let i = 0; i < 150 && holding().length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    // It ends on the host too: its next write breaks the pipe.
    expect(holding()).toEqual([]);
  });

  /** Starts `offload forward` of `port`; resolves once it printed its URL, with its pid and local port. */
  async function startForward(port: number) {
    let printed = "";
    let pid = 0;
    const done = runCli(["forward", "--ssh-config", bed.sshConfig, "--host", host, String(port)], {
      cwd: project?.dir ?? "/",
      timeoutMs: 120_000,
      onSpawn: (p) => {
        pid = p;
        // A failed expectation must not leave it forwarding (and its hold session running).
        cleanups.push(() => {
          if (!ended) process.kill(p, "SIGKILL");
        });
      },
      onStdout: (text) => {
        printed += text;
      },
    });
    let ended = false;
    void done.then(() => {
      ended = true;
    });
    const url = /^http:\/\/127\.0\.0\.1:([0-9]+)\/ /m;
    for (let i = 0; i < 300 && !url.test(printed) && !ended; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const local = Number(url.exec(printed)?.[1]);
    if (!local) throw new Error(`offload forward printed no URL: ${(await done).stderr}`);
    return { done, pid, local };
  }

  it("a forward left by a killed `offload forward` is taken back by the next forward of that port", async () => {
    project = await makeProject();
    const port = 23000 + (process.pid % 1000);
    const word = `kept-by-${process.pid}`;
    serveOnHost(port, word);
    const first = await startForward(port);
    expect(first.local).toBe(port);
    process.kill(first.pid, "SIGKILL");
    expect((await first.done).code).toBe(137);
    // The forward lives in the ControlMaster, which outlives offload: the port stays bound here.
    const held = await fetch(`http://127.0.0.1:${port}/hello.txt`).then(
      (r) => r.text(),
      (error: Error) => error.message,
    );
    expect(held.trim()).toBe(word);

    const second = await startForward(port);
    expect(second.local).toBe(port);
    const served = await fetch(`http://127.0.0.1:${port}/hello.txt`);
    expect((await served.text()).trim()).toBe(word);
    process.kill(second.pid, "SIGTERM");
    const result = await second.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `local port ${port} was still forwarded for an offload that ended (pid ${first.pid}): cancelled that forward`,
    );
    const after = await fetch(`http://127.0.0.1:${port}/hello.txt`).then(
      () => "answered",
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    expect(after).toBe("ECONNREFUSED");
  });

  it("forward: in offload.yaml forwards while `offload run` follows the run, and not after", async () => {
    project = await makeProject();
    const port = 22000 + (process.pid % 1000);
    const word = `run-served-${process.pid}`;
    const stop = `/tmp/offload-forward-stop-${process.pid}`;
    cleanups.push(() => ssh(`rm -f ${stop}`));
    await project.write("hello.txt", `${word}\n`);
    await project.write("offload.yaml", `forward:\n  - ${port}\n`);
    // The job serves its own dir on the host's loopback until the test says stop.
    const job = `python3 -m http.server --bind 127.0.0.1 ${port} & s=$!; while [ ! -e ${stop} ]; do sleep 0.2; done; kill $s`;
    let errors = "";
    const done = runCli(["run", "--ssh-config", bed.sshConfig, "--host", host, "--", job], {
      cwd: project.dir,
      timeoutMs: 120_000,
      onStderr: (text) => {
        errors += text;
      },
    });
    const notice = /forwarding http:\/\/127\.0\.0\.1:([0-9]+)\/ -> (\S+):([0-9]+)/;
    for (let i = 0; i < 600 && !notice.test(errors); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const match = notice.exec(errors);
    expect(match?.slice(2)).toEqual([host, String(port)]);
    const url = `http://127.0.0.1:${match?.[1]}/hello.txt`;
    // The server starts with the job: the forward is there before it listens.
    let text = "";
    for (let i = 0; i < 100 && text === ""; i++) {
      text = await fetch(url).then(
        (r) => (r.ok ? r.text() : ""),
        () => "",
      );
      if (text === "") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(text.trim()).toBe(word);
    ssh(`touch ${stop}`);
    const result = await done;
    expect(result.code).toBe(0);
    const after = await fetch(url).then(
      () => "answered",
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    expect(after).toBe("ECONNREFUSED");
  });
});
