// Machines from the fake OpenStack end to end: write-ahead ledger, regions on capacity, Retry-After,
// pinned host keys checked by a real ssh, teardown confirmed, reconcile of what a dead offload left.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { isProviderError } from "../../src/providers/errors.js";
import { currentOwner, Ledger, newTag } from "../../src/providers/ledger.js";
import { readOpenStackCredentials } from "../../src/providers/openstack/credentials.js";
import { OpenStackProvider } from "../../src/providers/openstack/nova.js";
import { provisionMachine } from "../../src/providers/provision.js";
import { reconcile } from "../../src/providers/reconcile.js";
import { startMachine } from "../../src/providers/restart.js";
import { tearDown } from "../../src/providers/teardown.js";
import { describeWithHosts } from "../testbed/index.js";
import { slotOf } from "./fake/nova.js";
import { DEMO_USER, FakeOpenStack } from "./fake/openstack.js";
import { deadPid, sshPinned } from "./pinned-ssh.js";

const REQUEST = {
  spec: { flavor: "gpu.h100.1", image: "Ubuntu-22.04", network: "auto" },
  user: "root",
  sshConfig: "/dev/null",
  pollMs: 50,
};

describeWithHosts(
  1,
  "cloud machines on the fake OpenStack",
  () => {
    let cloud: FakeOpenStack;
    let stateDir: string;
    let ledger: Ledger;
    let provider: OpenStackProvider;

    beforeAll(async () => {
      cloud = await new FakeOpenStack({ buildDelayMs: 200 }).start();
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      ledger = new Ledger(join(stateDir, "machines"));
      const credentials = readOpenStackCredentials({
        OS_AUTH_URL: cloud.authUrl,
        OS_USERNAME: DEMO_USER.username,
        OS_PASSWORD: DEMO_USER.password,
        OS_PROJECT_NAME: DEMO_USER.project,
        HOME: stateDir,
      });
      provider = new OpenStackProvider({
        credentials,
        regions: ["RegionOne", "RegionTwo"],
        retry: { attempts: 5, baseDelayMs: 50, maxDelayMs: 200 },
      });
    });
    afterEach(async () => {
      cloud.faults.noCapacityIn.clear();
      cloud.faults.failDeletes = 0;
      cloud.faults.newAddressOnStart = false;
      cloud.faults.stuckInBuild = false;
      cloud.faults.sshdNeverUp = false;
      cloud.nova.pageSize = 1000;
      // Whatever a test left, the next starts from zero machines and an empty ledger.
      for (const entry of await ledger.list())
        await tearDown(provider, ledger, entry.tag, { pollMs: 50 });
    });
    afterAll(async () => {
      await cloud?.close();
      rmSync(stateDir, { recursive: true, force: true });
    });

    it("creates a machine reachable with its pinned host key, then deletes it: zero left", async () => {
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(machine.region).toBe("RegionOne");
      expect((await ledger.read(machine.tag))?.state).toBe("created");

      const ssh = sshPinned(machine);
      expect(ssh.stderr).toBe("");
      expect(ssh.status).toBe(0);
      // The key the machine shows is the one offload generated and passed in user_data.
      const slot = slotOf(cloud.nova, machine.id) ?? -1;
      const hostKey = join(cloud.hosts.names.stateDir, `h${slot}`, "ssh_host_ed25519_key");
      const shown = execFileSync("ssh-keygen", ["-y", "-f", hostKey], { encoding: "utf8" }).trim();
      expect(readFileSync(machine.knownHostsFile, "utf8")).toBe(
        `${machine.address} ${shown.split(" ").slice(0, 2).join(" ")}\n`,
      );
      // Without the pin, strict checking refuses: the pin is what makes it trusted.
      const empty = join(stateDir, "empty_known_hosts");
      writeFileSync(empty, "");
      const refused = sshPinned(machine, "true", empty);
      expect(refused.status).toBe(255);
      expect(refused.stderr).toContain("Host key verification failed");

      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
      expect(cloud.hosts.exists(slot)).toBe(false);
    });

    it("moves to the next region when the first has no capacity, deleting the failed server", async () => {
      cloud.faults.noCapacityIn.add("RegionOne");
      const waits: string[] = [];
      const machine = await provisionMachine(provider, ledger, {
        ...REQUEST,
        stateDir,
        onWait: (what) => waits.push(what),
      });
      expect(machine.region).toBe("RegionTwo");
      expect(waits.join("\n")).toContain("RegionOne has no capacity (No valid host was found");
      expect(await cloud.liveMachines()).toBe(1);
      expect(sshPinned(machine).status).toBe(0);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("fails with the capacity error when no region has room, leaving nothing behind", async () => {
      cloud.faults.noCapacityIn.add("RegionOne").add("RegionTwo");
      const error = await provisionMachine(provider, ledger, { ...REQUEST, stateDir }).catch(
        (e: unknown) => e,
      );
      expect((error as { code?: string }).code).toBe("E_CLOUD_CAPACITY");
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("deletes a server stuck in BUILD when the wait runs out", async () => {
      cloud.faults.stuckInBuild = true;
      const error = await provisionMachine(provider, ledger, {
        ...REQUEST,
        runningTimeoutMs: 1_000,
      }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe("E_MACHINE_FAILED");
      expect((error as Error).message).toMatch(/was still BUILD after the wait/);
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("deletes a machine whose sshd never answers", async () => {
      cloud.faults.sshdNeverUp = true;
      const error = await provisionMachine(provider, ledger, {
        ...REQUEST,
        sshTimeoutMs: 1_500,
      }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe("E_HOST_UNREACHABLE");
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("waits as long as Retry-After says before creating again", async () => {
      cloud.faults.rateLimitCreates = 1;
      cloud.faults.retryAfterSeconds = 1;
      const before = cloud.requests.length;
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      const creates = cloud.requests
        .slice(before)
        .filter((r) => r.method === "POST" && r.path.endsWith("/servers"));
      expect(creates.map((r) => r.status)).toEqual([429, 202]);
      const [limited, accepted] = creates;
      expect((accepted?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(1000);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("adopts the server of a create that answered 500 but was made, instead of making a second", async () => {
      cloud.faults.createsAnswer500 = 1;
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(await cloud.liveMachines()).toBe(1);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("reconcile deletes what a killed offload left: a 500-but-created server known only by its tag", async () => {
      cloud.nova.pageSize = 1;
      // A kept machine of a live owner stays; it also makes the list span two pages.
      const kept = await provisionMachine(provider, ledger, { ...REQUEST, stateDir, keep: true });
      const tag = newTag();
      await ledger.write({
        tag,
        provider: "openstack",
        state: "intent",
        keep: false,
        createdAt: new Date().toISOString(),
        owner: { ...currentOwner(), pid: deadPid() },
        region: "RegionOne",
      });
      cloud.faults.createsAnswer500 = 1;
      const error = await provider
        .create({ ...REQUEST.spec, region: "RegionOne" }, tag)
        .catch((e: unknown) => e);
      expect(isProviderError(error, "transient")).toBe(true);
      expect(await cloud.liveMachines()).toBe(2);

      const result = await reconcile(provider, ledger, { pollMs: 50 });
      expect(result).toMatchObject({ deleted: [tag], forgotten: [], owed: [], unknown: [] });
      expect(await cloud.liveMachines()).toBe(1);
      expect((await ledger.list()).map((e) => e.tag)).toEqual([kept.tag]);
    });

    it("a restart at a new address is followed: the ledger and the pin move, ssh stays strict", async () => {
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, keep: true });
      await provider.stop(machine.id, machine.region);
      cloud.faults.newAddressOnStart = true;
      const started = await startMachine(provider, ledger, machine.tag, {
        sshConfig: "/dev/null",
        pollMs: 50,
      });
      expect(started.address).not.toBe(machine.address);
      expect((await ledger.read(machine.tag))?.address).toBe(started.address);
      expect(sshPinned(started).status).toBe(0);
      expect(readFileSync(started.knownHostsFile, "utf8")).toMatch(
        new RegExp(`^${started.address.replaceAll(".", "\\.")} ssh-ed25519 `),
      );
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("retries a delete that fails, and leaves the teardown owed when it keeps failing", async () => {
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      cloud.faults.failDeletes = 3;
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
      const failed = cloud.requests.filter((r) => r.method === "DELETE" && r.status === 500);
      expect(failed.length).toBeGreaterThanOrEqual(3);

      const second = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      cloud.faults.failDeletes = 1_000;
      const error = await tearDown(provider, ledger, second.tag, {
        pollMs: 50,
        timeoutMs: 1_500,
      }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe("E_MACHINE_LEAK");
      expect((await ledger.read(second.tag))?.state).toBe("teardown-owed");
      expect(await cloud.liveMachines()).toBe(1);

      // The next offload command (another process) settles it once the cloud deletes again.
      cloud.faults.failDeletes = 0;
      await ledger.update(second.tag, { owner: { ...currentOwner(), pid: deadPid() } });
      const result = await reconcile(provider, ledger, { pollMs: 50 });
      expect(result.deleted).toEqual([second.tag]);
      expect(await cloud.liveMachines()).toBe(0);
      expect(await ledger.list()).toEqual([]);
    });
  },
  { netns: true },
);
