// `nodes: N` on a cloud target: N machines made for one job, one rank on each with torchrun's contract
// (a real rendezvous: rank 0 serves MASTER_PORT, the others connect to MASTER_ADDR), and all N deleted
// together on success, on a rank's failure and on Ctrl+C, by the fake OpenStack's own count.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliOptions, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";
import { powerOffCommand } from "./fake/hosts.js";
import { noFaults } from "./fake/nova.js";
import { FakeOpenStack } from "./fake/openstack.js";
import { ledgerEntries, ledgerFiles, openStackEnv } from "./fake/run-env.js";

const NODES = 3;

/** Rank 0 waits for every other rank to connect to MASTER_ADDR:MASTER_PORT; the others connect. */
const RENDEZVOUS = `import os, socket, sys, time
rank, n = int(os.environ["NODE_RANK"]), int(os.environ["NNODES"])
addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
if rank == int(os.environ.get("FAIL_RANK", "-1")):
    sys.exit(3)
if rank == 0:
    server = socket.create_server(("0.0.0.0", port))
    server.settimeout(120)
    joined = sorted(server.accept()[0].recv(16).decode() for _ in range(n - 1))
    print("rendezvous", ",".join(joined), "world", os.environ["WORLD_SIZE"], flush=True)
else:
    for _ in range(1200):
        try:
            conn = socket.create_connection((addr, port), 5)
            break
        except OSError:
            time.sleep(0.1)
    conn.sendall(str(rank).encode())
    print("joined", rank, "of", n, flush=True)
time.sleep(float(os.environ.get("LINGER", "0")))
`;

function offloadYaml(nodes: number | string = NODES): string {
  return [
    "targets:",
    "  pod:",
    "    cloud: openstack",
    "    flavor: gpu.h100.1",
    "    image: Ubuntu-22.04",
    "    user: root",
    "    network: auto",
    "    region: [RegionOne]",
    "    price_per_hour: 2.49",
    `    nodes: ${nodes}`,
    `    dead_man: { after: 60s, command: ${JSON.stringify(powerOffCommand())} }`,
    "",
  ].join("\n");
}

describe("nodes: N", () => {
  it("is refused on a target that is not a cloud one, before anything connects", async () => {
    const project = await makeProject();
    try {
      await project.write("offload.yaml", "targets:\n  gpu:\n    host: gpu-box\n    nodes: 2\n");
      const result = await runCli(["run", "--host", "gpu", "--", "true"], {
        cwd: project.dir,
        env: { HOME: project.home },
      });
      expect(result.stderr).toContain(
        "`nodes: 2` makes 2 machines, which only a target with `cloud:` can; gpu-box is a host",
      );
      expect(result.code).toBe(200);
    } finally {
      await project.remove();
    }
  });
});

describeWithHosts(
  1,
  "nodes: N on a cloud target (fake OpenStack)",
  () => {
    let cloud: FakeOpenStack;
    let stateDir = "";
    let project: TempProject | undefined;

    beforeAll(async () => {
      // Builds slow enough that a signal lands while every node's machine is still being made.
      cloud = await new FakeOpenStack({ buildDelayMs: 1_500 }).start();
    });
    afterAll(async () => {
      await cloud?.close();
    });
    afterEach(async () => {
      cloud.nova.faults = noFaults();
      await project?.remove();
      project = undefined;
      rmSync(stateDir, { recursive: true, force: true });
    });

    /** A new project whose target is `yaml`, and the rendezvous job run on it. */
    async function runJob(
      env: Record<string, string>,
      options: Partial<CliOptions> = {},
      yaml = offloadYaml(),
    ) {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject();
      await project.write("rendezvous.py", RENDEZVOUS);
      // The job's own variables reach it through `env:` of offload.yaml, as a user would pass them.
      const envYaml = Object.entries(env).map(([k, v]) => `  ${k}: "${v}"`);
      await project.write(
        "offload.yaml",
        envYaml.length > 0 ? `env:\n${envYaml.join("\n")}\n${yaml}` : yaml,
      );
      return runAgain(options);
    }

    /** `offload COMMAND` (default the rendezvous job) in the current project. */
    const runAgain = (
      options: Partial<CliOptions> = {},
      args = ["run", "--host", "pod", "--", "python3", "rendezvous.py"],
    ) =>
      runCli(args, {
        cwd: project?.dir ?? tmpdir(),
        env: openStackEnv(cloud, project?.home ?? tmpdir(), stateDir),
        timeoutMs: 170_000,
        ...options,
      });

    const madeMachines = () =>
      cloud.requests.filter((r) => r.method === "POST" && r.path.endsWith("/servers"));

    it("makes N machines, runs one rank on each that meet at MASTER_ADDR, and deletes all N", async () => {
      const before = madeMachines().length;
      const result = await runJob({});
      expect(result.code, result.stderr).toBe(0);
      const others = Array.from({ length: NODES - 1 }, (_, k) => String(k + 1)).join(",");
      expect(result.stdout).toContain(`[n0] rendezvous ${others} world ${NODES}`);
      for (let rank = 1; rank < NODES; rank++)
        expect(result.stdout).toContain(`[n${rank}] joined ${rank} of ${NODES}`);
      expect(madeMachines().length - before).toBe(NODES);
      const gone = new Set(result.stderr.match(/machine: offload-[0-9a-f]+ gone/g) ?? []);
      expect(gone.size).toBe(NODES);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("a rank that fails stops the others; the job's exit is its own and all N machines go", async () => {
      const result = await runJob({ FAIL_RANK: "1", LINGER: "300" });
      expect(result.code, result.stderr).toBe(3);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("Ctrl+C once every rank runs stops them all and deletes all N machines", async () => {
      let pid = 0;
      let seen = "";
      let sent = false;
      const result = await runJob(
        { LINGER: "300" },
        {
          onSpawn: (p) => {
            pid = p;
          },
          onStdout: (text) => {
            seen += text;
            const joined = seen.match(/\[n\d+\] joined/g)?.length ?? 0;
            if (!sent && joined === NODES - 1 && seen.includes("[n0] rendezvous")) {
              sent = true;
              process.kill(pid, "SIGINT");
            }
          },
        },
      );
      expect(sent, result.stderr).toBe(true);
      expect(result.code, result.stderr).toBe(143);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    /** Sends `signal` to offload each time the next of `marks` has shown on stderr. */
    function signalsOn(marks: { text: RegExp; count: number; signal: NodeJS.Signals }[]) {
      let pid = 0;
      let seen = "";
      let sent = 0;
      return {
        sent: () => sent,
        options: {
          onSpawn: (p: number) => {
            pid = p;
          },
          onStderr: (text: string) => {
            seen += text;
            const next = marks[sent];
            if (next === undefined) return;
            const flags = next.text.flags.includes("g") ? next.text.flags : `${next.text.flags}g`;
            if ((seen.match(new RegExp(next.text.source, flags))?.length ?? 0) < next.count) return;
            sent += 1;
            process.kill(pid, next.signal);
          },
        },
      };
    }

    it("keep: true keeps all N machines, and the next job takes each of them once", async () => {
      const kept = await runJob(
        {},
        {},
        offloadYaml().replace("    nodes:", "    keep: true\n    nodes:"),
      );
      expect(kept.code, kept.stderr).toBe(0);
      expect(await cloud.liveMachines()).toBe(NODES);
      const made = madeMachines().length;
      const again = await runAgain();
      expect(again.code, again.stderr).toBe(0);
      const reused = again.stderr.match(/reusing the kept machine offload-[0-9a-f]+/g) ?? [];
      expect(new Set(reused).size, again.stderr).toBe(NODES);
      expect(madeMachines().length).toBe(made);
      const down = await runAgain({}, ["down", "--all"]);
      expect(down.code, down.stderr).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("a budget is the job's: each of the N machines gets its share, and the job stops before it is spent", async () => {
      // $360/h is 10 cents a second: $9 over 3 machines buys each 30 s, and the job stops 20% before.
      const yaml = offloadYaml()
        .replace("price_per_hour: 2.49", "price_per_hour: 360")
        .replace("    nodes:", "    budget: { usd: 9 }\n    nodes:");
      const result = await runJob({ LINGER: "300" }, {}, yaml);
      const shares = result.stderr.match(/budget \$3\.00 buys 30 s: the run stops after 24 s/g);
      expect(shares?.length, result.stderr).toBe(NODES);
      expect(result.code, result.stderr).toBe(143);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("one SIGTERM while the N machines are made is one Ctrl+C: all N are deleted before offload ends", async () => {
      const signals = signalsOn([
        { text: /to run with an address \(BUILD\)/, count: NODES, signal: "SIGTERM" },
      ]);
      const result = await runJob({}, signals.options);
      expect(signals.sent(), result.stderr).toBe(1);
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).not.toContain("is left running");
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });

    it("a second Ctrl+C while the N machines are deleted leaves all N owed; the next command deletes them", async () => {
      cloud.nova.faults.failDeletes = 1_000;
      const signals = signalsOn([
        { text: /machine: deleting/, count: 1, signal: "SIGINT" },
        { text: /Ctrl\+C again leaves it/, count: 1, signal: "SIGINT" },
      ]);
      const result = await runJob({}, signals.options);
      expect(signals.sent(), result.stderr).toBe(2);
      expect(result.code, result.stderr).toBe(130);
      const owed = ledgerEntries(stateDir);
      expect(owed.map((e) => e.state)).toEqual(Array(NODES).fill("teardown-owed"));
      for (const { tag } of owed) expect(result.stderr).toContain(`machine ${tag} is left running`);
      expect(await cloud.liveMachines()).toBe(NODES);
      cloud.nova.faults = noFaults();
      const next = await runAgain({}, ["ps"]);
      expect(next.code).toBe(0);
      for (const { tag } of owed)
        expect(next.stderr).toContain(`deleted machine ${tag}, left behind`);
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles(stateDir)).toEqual([]);
    });
  },
  { netns: true },
);
