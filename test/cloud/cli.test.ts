// `offload machines` and `offload down` as a user runs them, against the fake OpenStack.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentOwner, Ledger } from "../../src/providers/ledger.js";
import { readOpenStackCredentials } from "../../src/providers/openstack/credentials.js";
import { OpenStackProvider } from "../../src/providers/openstack/nova.js";
import { provisionMachine } from "../../src/providers/provision.js";
import { runCli } from "../support/cli.js";
import { describeWithHosts } from "../testbed/index.js";
import { DEMO_USER, FakeOpenStack } from "./fake/openstack.js";

const fixture = (name: string) => join(import.meta.dirname, "../fixtures/cloud", name);

describe("offload machines address", () => {
  const cwd = tmpdir();
  it("prints the public address offload would pick from a saved response", async () => {
    const result = await runCli(["machines", "address", fixture("nova-devstack-floating.json")], {
      cwd,
    });
    expect(result).toMatchObject({ code: 0, stdout: "192.168.1.184\n" });
  });

  it("prints nothing and exits 1 while the machine has no address", async () => {
    const result = await runCli(["machines", "address", fixture("nova-building.json")], { cwd });
    expect(result).toMatchObject({ code: 1, stdout: "" });
    const none = await runCli(["machines", "address", fixture("nova-private-only.json")], { cwd });
    expect(none).toMatchObject({ code: 1, stdout: "" });
  });

  it("prints the private address with --private", async () => {
    const result = await runCli(
      ["machines", "address", "--private", fixture("nova-private-only.json")],
      { cwd },
    );
    expect(result).toMatchObject({ code: 0, stdout: "10.4.0.13\n" });
  });

  it("says a damaged ledger entry is damaged (exit 200, not a bug) and keeps it", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
    const entry = join(stateDir, "machines", "offload-0123456789ab.json");
    mkdirSync(join(stateDir, "machines"));
    writeFileSync(entry, '{"tag": "offload-0123456789ab", "provid');
    try {
      for (const args of [["machines"], ["down", "--all"]]) {
        const result = await runCli(args, { cwd, env: { OFFLOAD_STATE_DIR: stateDir } });
        expect(result.stderr).toContain(`The ledger entry ${entry} is damaged`);
        expect(result.stderr).toContain("delete the machine tagged offload-0123456789ab");
        expect(result.code).toBe(200);
      }
      expect(existsSync(entry)).toBe(true);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("refuses `down` without machines or --all (usage, exit 2)", async () => {
    const result = await runCli(["down"], { cwd, env: { OFFLOAD_STATE_DIR: join(cwd, "none") } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("name the machines to delete, or pass --all");
  });
});

describeWithHosts(
  1,
  "offload machines and offload down against the fake OpenStack",
  () => {
    let cloud: FakeOpenStack;
    let stateDir: string;
    let env: NodeJS.ProcessEnv;
    let provider: OpenStackProvider;

    beforeAll(async () => {
      cloud = await new FakeOpenStack({ buildDelayMs: 100 }).start();
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      env = {
        OFFLOAD_STATE_DIR: stateDir,
        OS_AUTH_URL: cloud.authUrl,
        OS_USERNAME: DEMO_USER.username,
        OS_PASSWORD: DEMO_USER.password,
        OS_PROJECT_NAME: DEMO_USER.project,
        OS_REGION_NAME: "RegionOne",
      };
      provider = new OpenStackProvider({ credentials: readOpenStackCredentials(env) });
    });
    afterAll(async () => {
      await cloud?.close();
      rmSync(stateDir, { recursive: true, force: true });
    });

    it("lists a machine with its state and address, then `down` deletes it: zero left", async () => {
      const ledger = new Ledger(join(stateDir, "machines"));
      const machine = await provisionMachine(provider, ledger, {
        spec: { flavor: "m1.tiny", image: "Ubuntu-22.04" },
        user: "root",
        target: "h100",
        sshConfig: "/dev/null",
        pollMs: 50,
      });
      // The offload that made it has exited, as after a kill -9.
      const dead = spawnSync("true").pid ?? 999_999;
      await ledger.update(machine.tag, { owner: { ...currentOwner(), pid: dead } });

      const listed = await runCli(["machines"], { cwd: stateDir, env });
      expect(listed.code).toBe(0);
      const row = listed.stdout.split("\n").find((line) => line.startsWith(machine.tag)) ?? "";
      expect(row).toMatch(/openstack\s+RegionOne\s+running \(ACTIVE\)/);
      expect(row).toContain(machine.address);
      expect(row).toMatch(/h100$/);

      const down = await runCli(["down", machine.tag.replace(/^offload-/, "")], {
        cwd: stateDir,
        env,
      });
      expect(down.stderr).toContain(`${machine.tag}: gone`);
      expect(down.code).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
      expect(await ledger.list()).toEqual([]);
    });

    it("stops a machine and starts it again, printing the new address it answers at", async () => {
      const ledger = new Ledger(join(stateDir, "machines"));
      const machine = await provisionMachine(provider, ledger, {
        spec: { flavor: "m1.tiny", image: "Ubuntu-22.04" },
        user: "root",
        keep: true,
        sshConfig: "/dev/null",
        pollMs: 50,
      });
      const stop = await runCli(["machines", "stop", machine.tag], { cwd: stateDir, env });
      expect(stop.code).toBe(0);
      for (;;) {
        if ((await provider.describe(machine.id)).state === "stopped") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      cloud.faults.newAddressOnStart = true;
      const start = await runCli(["machines", "start", machine.tag], { cwd: stateDir, env });
      cloud.faults.newAddressOnStart = false;
      expect(start.code).toBe(0);
      const address = start.stdout.trim();
      expect(address).toMatch(/^10\.200\.1\.\d+$/);
      expect(address).not.toBe(machine.address);
      expect(start.stderr).toContain(
        `waiting for the new address ${address} (was ${machine.address})`,
      );
      const down = await runCli(["down", "--all"], { cwd: stateDir, env });
      expect(down.code).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("shows a tagged machine this ledger does not know, and deletes it by its cloud id", async () => {
      const id = await provider.create(
        { flavor: "m1.tiny", image: "Ubuntu-22.04" },
        "offload-stranger1",
      );
      const listed = await runCli(["machines", "--cloud", "openstack"], { cwd: stateDir, env });
      expect(listed.stdout).toMatch(
        /offload-stranger1\s+openstack\s+RegionOne\s+.*not in this computer's ledger/,
      );
      const down = await runCli(["down", "--cloud", "openstack", id], { cwd: stateDir, env });
      expect(down.code).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
    });
  },
  { netns: true },
);
