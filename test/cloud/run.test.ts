// `offload run` on a `cloud: openstack` target against the fake OpenStack, whose machines are real
// test-bed hosts: the machine is made, the job runs as on any host, outputs come home, the machine goes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type CliOptions, type CliResult, runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { hasTorch } from "../support/torch.js";
import { describeWithHosts } from "../testbed/index.js";
import { powerOffCommand } from "./fake/hosts.js";
import { slotOf } from "./fake/nova.js";
import { FakeOpenStack } from "./fake/openstack.js";
import { ledgerFiles as ledgerFilesIn, openStackEnv } from "./fake/run-env.js";

const TORCH = hasTorch();

/** offload.yaml with the cloud target `h100`; `extra` lines go inside the target. */
function offloadYaml(extra: string[] = []): string {
  return [
    "download:",
    "  - outputs/model.pt",
    "  - outputs/metrics.json",
    "targets:",
    "  h100:",
    "    cloud: openstack",
    "    flavor: gpu.h100.1",
    "    image: Ubuntu-22.04",
    "    user: root",
    "    network: auto",
    "    region: [RegionOne, RegionTwo]",
    "    price_per_hour: 2.49",
    `    dead_man: { after: 60s, command: ${JSON.stringify(powerOffCommand())} }`,
    ...extra.map((line) => `    ${line}`),
    "",
  ].join("\n");
}

describeWithHosts(
  1,
  "offload run on a cloud machine (fake OpenStack)",
  () => {
    let cloud: FakeOpenStack;
    let stateDir: string;
    let project: TempProject | undefined;

    beforeAll(async () => {
      cloud = await new FakeOpenStack({ buildDelayMs: 1_500 }).start();
    });
    afterAll(async () => {
      await cloud?.close();
    });
    afterEach(async () => {
      await project?.remove();
      project = undefined;
      cloud.nova.faults = (await import("./fake/nova.js")).noFaults();
      rmSync(stateDir, { recursive: true, force: true });
    });

    const env = () => openStackEnv(cloud, project?.home ?? tmpdir(), stateDir);
    const offload = (args: string[], options: Partial<CliOptions> = {}): Promise<CliResult> =>
      runCli(args, { cwd: project?.dir ?? tmpdir(), env: env(), timeoutMs: 170_000, ...options });
    const ledgerFiles = () => ledgerFilesIn(stateDir);

    async function newProject(extra: string[] = []): Promise<TempProject> {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject("pytorch");
      await project.write("offload.yaml", offloadYaml(extra));
      return project;
    }

    it.skipIf(!TORCH)(
      "trains PyTorch on a machine it makes, brings the outputs home and deletes the machine",
      async () => {
        const p = await newProject();
        const result = await offload([
          "run",
          "--host",
          "h100",
          "--",
          "/usr/bin/python3",
          "train.py",
          "--epochs",
          "2",
        ]);
        expect(result.stderr).toContain("finished (exit 0)");
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/Epoch 2\/2/);
        expect(result.stderr).toContain("machine: gpu.h100.1 at $2.49/h (price_per_hour)");
        expect(result.stderr).toMatch(/waiting for machine .* to run with an address \(BUILD\)/);
        expect(result.stderr).toMatch(/machine: offload-[0-9a-f]+ gone; cost \$0\.\d\d/);
        const [id] = await p.runIds();
        if (id === undefined) throw new Error("no run recorded");
        const record = await p.record(id);
        expect(record).toMatchObject({
          status: "succeeded",
          exitCode: 0,
          machine: { provider: "openstack", flavor: "gpu.h100.1", usdPerHour: 2.49, kept: false },
        });
        expect(record.machine?.costUsd).toBeGreaterThan(0);
        expect(record.artifacts).toEqual(
          expect.arrayContaining(["outputs/model.pt", "outputs/metrics.json"]),
        );
        expect(await cloud.liveMachines()).toBe(0);
        expect(ledgerFiles()).toEqual([]);
        const cost = `$${record.machine?.costUsd?.toFixed(2)}`;
        const ps = await offload(["ps"]);
        expect(ps.stdout).toMatch(/TIME\s+COST\s+TAGS/);
        expect(ps.stdout).toContain(`  ${cost}  `);
        const report = await offload(["report", id]);
        expect(report.stdout).toContain(`, machine ${cost}  on h100`);
      },
    );

    /** When each phase has begun, by what offload says (stderr) or reports (--json events on stdout). */
    const PHASES = {
      creating: { stream: "stderr", text: "to run with an address (BUILD)" },
      waiting: { stream: "stderr", text: "waiting for ssh on" },
      syncing: { stream: "stdout", text: '"type":"syncing"' },
      running: { stream: "stdout", text: '"type":"launched"' },
      downloading: { stream: "stdout", text: '"type":"downloading"' },
    } as const;
    const JOB = [
      "sh",
      "-c",
      "sleep 2; mkdir -p outputs; head -c 100000000 /dev/zero >outputs/big.bin; echo made",
    ];

    /** Runs the slow job and sends `signal` to offload once `phase` has begun. */
    async function signalIn(phase: keyof typeof PHASES, signal: NodeJS.Signals) {
      await newProject();
      await project?.write(
        "offload.yaml",
        offloadYaml().replace("  - outputs/model.pt", "  - outputs/big.bin"),
      );
      const { stream, text } = PHASES[phase];
      // The machine stays in BUILD, so offload is surely still creating when its line shows: on a
      // loaded machine the first look could come after a 1.5 s build and the line never printed.
      if (phase === "creating") cloud.faults.stuckInBuild = true;
      let pid = 0;
      let sent = false;
      let seen = "";
      const watch = (chunk: string) => {
        seen += chunk;
        if (!sent && seen.includes(text)) {
          sent = true;
          process.kill(pid, signal);
        }
      };
      const result = await offload(["run", "--json", "--host", "h100", "--", ...JOB], {
        onSpawn: (p) => {
          pid = p;
        },
        ...(stream === "stdout" ? { onStdout: watch } : { onStderr: watch }),
      });
      expect(sent, `${phase} never began:\n${result.stderr}`).toBe(true);
      return result;
    }

    /** The ledger entry of the one machine offload made (read while it is owed). */
    const onlyEntry = () => {
      const [file] = ledgerFiles();
      if (file === undefined) throw new Error("no machine in the ledger");
      return JSON.parse(readFileSync(join(stateDir, "machines", file), "utf8")) as {
        id: string;
        tag: string;
      };
    };

    it("stops the run before the budget is spent and deletes the machine (budget stop)", async () => {
      // $360/h is 10 cents a second: a $3 budget buys 30 s, and the run stops 20% before.
      await newProject(["budget: { usd: 3 }"]);
      await project?.write(
        "offload.yaml",
        offloadYaml(["budget: { usd: 3 }"]).replace("price_per_hour: 2.49", "price_per_hour: 360"),
      );
      const result = await offload(["run", "--host", "h100", "--", "sleep", "300"]);
      expect(result.stderr).toContain("budget $3.00 buys 30 s: the run stops after 24 s");
      expect(result.stderr).toContain("budget: stopping the run before the budget of $3 is spent");
      expect(result.code).toBe(143);
      const [id] = (await project?.runIds()) ?? [];
      const record = await project?.record(id ?? "");
      expect(record?.status).toBe("stopped");
      expect(record?.machine?.stoppedBy).toBe("budget");
      expect(record?.machine?.costUsd).toBeLessThan(3);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("refuses a machine over max_price_per_hour, and a budget with no price, before creating", async () => {
      const since = Date.now();
      await newProject(["max_price_per_hour: 2"]);
      const pricey = await offload(["run", "--host", "h100", "--", "true"]);
      expect(pricey.stderr).toContain("gpu.h100.1 costs $2.49/h, over max_price_per_hour $2.00");
      expect(pricey.code).toBe(200);
      await project?.write(
        "offload.yaml",
        offloadYaml(["budget: { usd: 5 }"]).replace("    price_per_hour: 2.49\n", ""),
      );
      const unpriced = await offload(["run", "--host", "h100", "--", "true"]);
      expect(unpriced.stderr).toContain("no price is known for gpu.h100.1");
      expect(unpriced.code).toBe(200);
      await project?.write("offload.yaml", offloadYaml(["budget: { usd: 5 }", "max_duration: 3h"]));
      const long = await offload(["run", "--host", "h100", "--", "true"]);
      expect(long.stderr).toContain(
        "max_duration 3 h at $2.49/h costs $7.47, over the budget of $5.00",
      );
      expect(long.code).toBe(200);
      expect(
        cloud.requests.filter(
          (r) => r.at >= since && r.method === "POST" && r.path.endsWith("/servers"),
        ),
      ).toEqual([]);
    });

    it("the dead-man switch powers the machine off once offload vanished; the next command deletes it", async () => {
      await newProject();
      await project?.write(
        "offload.yaml",
        offloadYaml().replace("dead_man: { after: 60s,", "dead_man: { after: 4s,"),
      );
      let pid = 0;
      const killed = await offload(["run", "--json", "--host", "h100", "--", "sleep", "300"], {
        onSpawn: (p) => {
          pid = p;
        },
        onStdout: (text) => {
          if (text.includes('"type":"launched"')) process.kill(pid, "SIGKILL");
        },
      });
      expect(killed.code).toBe(137);
      const { id } = onlyEntry();
      // Nobody re-arms it now: the machine's own watcher powers it off (bounded wait, not a timing claim).
      for (let i = 0; i < 600 && cloud.nova.statusOf(id) !== "SHUTOFF"; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(cloud.nova.statusOf(id)).toBe("SHUTOFF");
      const next = await offload(["ps"]);
      expect(next.stderr).toMatch(/deleted machine offload-[0-9a-f]+, left behind/);
      expect(await cloud.liveMachines()).toBe(0);
      // Its job went with the machine: the record ends lost, with why, not `running` for ever.
      const [run = ""] = (await project?.runIds()) ?? [];
      const record = await project?.record(run);
      expect(record?.status).toBe("lost");
      expect(record?.error?.message).toMatch(
        /offload that ran it \(pid \d+\) ended before the run did; a later command deleted its machine/,
      );
      expect(next.stdout).toMatch(new RegExp(`${run} .* lost `));
    });

    it("the dead-man switch does not fire while offload follows: re-armed, a run outlives its window", async () => {
      await newProject();
      await project?.write(
        "offload.yaml",
        offloadYaml().replace("dead_man: { after: 60s,", "dead_man: { after: 3s,"),
      );
      const result = await offload([
        "run",
        "--host",
        "h100",
        "--",
        "sh",
        "-c",
        "sleep 8; echo survived",
      ]);
      expect(result.stdout).toContain("survived");
      expect(result.code).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("moves to the next region when the first has no capacity, and retries a failing delete", async () => {
      await newProject();
      cloud.faults.noCapacityIn.add("RegionOne");
      cloud.faults.failDeletes = 2;
      const result = await offload(["run", "--host", "h100", "--", "echo", "ran"]);
      expect(result.stderr).toContain("another region: RegionOne has no capacity");
      expect(result.stdout).toContain("ran");
      expect(result.code).toBe(0);
      const [id] = (await project?.runIds()) ?? [];
      expect((await project?.record(id ?? ""))?.machine?.region).toBe("RegionTwo");
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles()).toEqual([]);
    });

    it("keep: true reuses the machine with setup done once, and idle_stop stops it when nobody uses it", async () => {
      await newProject();
      await project?.write(
        "offload.yaml",
        offloadYaml(["keep: true", "idle_stop: 3s", 'setup: ["echo setting-up-now"]']),
      );
      const first = await offload(["run", "--host", "h100", "--", "echo", "one"]);
      expect(first.stderr).toContain("setting-up-now");
      expect(first.stderr).toMatch(/machine: offload-[0-9a-f]+ kept/);
      expect(first.code).toBe(0);
      const { id, tag } = onlyEntry();
      const second = await offload(["run", "--host", "h100", "--", "echo", "two"]);
      expect(second.stderr).toMatch(/(reusing|starting) the kept machine/);
      expect(second.stderr).toContain("machine: setup already done on this machine");
      expect(second.stderr).not.toContain("setting-up-now");
      expect(second.stdout).toContain("two");
      expect(second.code).toBe(0);
      expect(onlyEntry().tag).toBe(tag);
      // No run, no ssh session: the machine's watcher stops it (bounded wait, not a timing claim).
      for (let i = 0; i < 600 && cloud.nova.statusOf(id) !== "SHUTOFF"; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(cloud.nova.statusOf(id)).toBe("SHUTOFF");
      // A stopped kept machine is no orphan: the next command leaves it; `down` deletes it.
      expect((await offload(["ps"])).code).toBe(0);
      const listed = await offload(["machines"]);
      expect(listed.stdout).toMatch(
        new RegExp(`${tag}\\s+openstack\\s+RegionOne\\s+kept, stopped \\(SHUTOFF\\)`),
      );
      const down = await offload(["down", tag]);
      expect(down.code).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("offload up makes a target's machine and keeps it; the next run uses it, --no-wait too", async () => {
      await newProject();
      // No kept machine: a --no-wait run would leave a new one with nobody to delete it.
      const refused = await offload(["run", "--no-wait", "--host", "h100", "--", "true"]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("`offload up h100` first");
      expect(await cloud.liveMachines()).toBe(0);
      expect(ledgerFiles()).toEqual([]);
      const up = await offload(["up", "h100"]);
      expect(up.code).toBe(0);
      const [tag] = up.stdout.trim().split(" ");
      expect(up.stderr).toContain(`machine ${tag} is up and kept`);
      const run = await offload(["run", "--host", "h100", "--", "echo", "on-it"]);
      expect(run.stderr).toContain(`reusing the kept machine ${tag}`);
      expect(run.stdout).toContain("on-it");
      expect(run.code).toBe(0);
      const detached = await offload(["run", "--no-wait", "--host", "h100", "--", "true"]);
      expect(detached.stderr).toContain(`reusing the kept machine ${tag}`);
      expect(detached.code).toBe(0);
      expect(ledgerFiles()).toEqual([`${tag}.json`]);
      expect(await cloud.liveMachines()).toBe(1);
      expect((await offload(["down", "--all"])).code).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("a run on a kept machine is reached again by ps, logs and stop; once the machine is gone, forward says so", async () => {
      await newProject(["keep: true"]);
      const run = await offload([
        "run",
        "--no-wait",
        "--host",
        "h100",
        "--",
        "sh",
        "-c",
        "echo on-the-machine; sleep 300",
      ]);
      expect(run.code).toBe(0);
      const [id] = (await project?.runIds()) ?? [];
      if (id === undefined) throw new Error("no run recorded");
      const { tag } = onlyEntry();
      // Resolving `h100` again names no host: each command must reach the machine the run is on.
      const ps = await offload(["ps"]);
      expect(ps.stderr).not.toContain("unknown");
      expect(ps.stdout).toMatch(new RegExp(`${id}\\s+-\\s+h100\\s+running`));
      let logs = await offload(["logs", id]);
      for (let i = 0; i < 100 && !logs.stdout.includes("on-the-machine"); i++)
        logs = await offload(["logs", id]);
      expect(logs.stdout).toContain("on-the-machine");
      const stop = await offload(["stop", id]);
      expect(stop.stderr).toContain(`stopping run ${id} on ${tag}`);
      expect(stop.code).toBe(0);
      expect((await offload(["down", tag])).code).toBe(0);
      const forward = await offload(["forward", id, "8000"]);
      expect(forward.stderr).toContain(
        `ran on the cloud machine ${tag}, which offload no longer has`,
      );
      expect(forward.code).toBe(200);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("a lost connection that does not come back ends the run (201) and deletes the machine", async () => {
      await newProject();
      await project?.write(
        "offload.yaml",
        `reconnect: { timeout: 3 }\nssh: { keepalive: 1 }\n${offloadYaml()}`,
      );
      let cut = false;
      const result = await offload(["run", "--json", "--host", "h100", "--", "sleep", "300"], {
        onStdout: (text) => {
          if (cut || !text.includes('"type":"launched"')) return;
          cut = true;
          const slot = slotOf(cloud.nova, onlyEntry().id);
          execFileSync("ip", ["link", "set", `veth-c${slot}`, "down"]);
        },
      });
      expect(cut).toBe(true);
      expect(result.code).toBe(201);
      expect(result.stderr).toMatch(/machine: offload-[0-9a-f]+ gone/);
      expect(await cloud.liveMachines()).toBe(0);
    });

    for (const phase of Object.keys(PHASES) as (keyof typeof PHASES)[]) {
      it(`Ctrl+C while ${phase} ends with the machine deleted`, async () => {
        const result = await signalIn(phase, "SIGINT");
        expect(result.stderr).toMatch(/machine: offload-[0-9a-f]+ gone|deleted the machine/);
        expect(await cloud.liveMachines()).toBe(0);
        expect(ledgerFiles()).toEqual([]);
        expect(result.code).toBe(EXPECTED_CTRL_C[phase]);
      });

      it(`kill -9 while ${phase} leaves the machine owed; the next command deletes it`, async () => {
        const result = await signalIn(phase, "SIGKILL");
        expect(result.code).toBe(137);
        const next = await offload(["ps"]);
        expect(next.code).toBe(0);
        expect(await cloud.liveMachines()).toBe(0);
        expect(ledgerFiles()).toEqual([]);
        if (phase !== "creating")
          expect(next.stderr).toMatch(/deleted machine offload-[0-9a-f]+, left behind/);
      });
    }
  },
  { netns: true },
);

/**
 * A Ctrl+C before the machine was reached ends as interrupted (130); once offload syncs, the job is
 * launched and stopped with TERM (143, as a shell reports it); once it ended, with its own status.
 */
const EXPECTED_CTRL_C = {
  creating: 130,
  waiting: 130,
  syncing: 143,
  running: 143,
  downloading: 0,
};
