// The Lambda provider against the fake Lambda Cloud API, which really provisions test-bed hosts: live
// prices and capacity, the login key registered once, the first host key accepted for a new machine only
// and pinned after, faults that leave zero machines.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isProviderError } from "../../src/providers/errors.js";
import { LambdaProvider } from "../../src/providers/lambda/lambda.js";
import { currentOwner, Ledger, newTag } from "../../src/providers/ledger.js";
import { openProvider } from "../../src/providers/open.js";
import { provisionMachine } from "../../src/providers/provision.js";
import { reconcile } from "../../src/providers/reconcile.js";
import { tearDown } from "../../src/providers/teardown.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeLambda, LAMBDA_KEY, LAMBDA_REGIONS, noLambdaFaults } from "./fake/lambda.js";
import { deadPid, sshPinned, tearDownLeftovers } from "./pinned-ssh.js";

const FAST_RETRY = { attempts: 5, baseDelayMs: 50, maxDelayMs: 200 };
const REQUEST = {
  spec: { flavor: "gpu_1x_h100_pcie", image: "" },
  user: "root",
  sshConfig: "/dev/null",
  pollMs: 50,
};

function providerFor(
  cloud: FakeLambda,
  regions: string[] = LAMBDA_REGIONS,
  apiKey = LAMBDA_KEY,
): LambdaProvider {
  return new LambdaProvider({ apiKey, baseUrl: cloud.baseUrl, regions, retry: FAST_RETRY });
}

describe("Lambda provider against the fake API (no machines)", () => {
  let cloud: FakeLambda;
  let stateDir: string;
  beforeAll(async () => {
    cloud = await new FakeLambda().start();
    stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
  });
  afterAll(async () => {
    await cloud.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("needs LAMBDA_API_KEY and refuses a wrong one as an auth error", async () => {
    const missing = (() => {
      try {
        return openProvider({ kind: "lambda", env: {} });
      } catch (e) {
        return e;
      }
    })();
    expect((missing as { code?: string }).code).toBe("E_CLOUD_CONFIG");
    const wrong = openProvider({
      kind: "lambda",
      env: { LAMBDA_API_KEY: "nope", LAMBDA_API_BASE_URL: cloud.baseUrl },
    });
    const error = await wrong.list().catch((e: unknown) => e);
    expect(isProviderError(error, "auth")).toBe(true);
    expect((error as Error).message).toContain("global/invalid-api-key");
  });

  it("gives the live price of an instance type and names the types when one does not exist", async () => {
    const provider = providerFor(cloud);
    expect(await provider.pricePerHour("gpu_1x_h100_pcie")).toBe(2.49);
    const error = await provider
      .create({ flavor: "gpu_8x_b300", image: "" }, "offload-t-x")
      .catch((e: unknown) => e);
    expect(isProviderError(error, "request")).toBe(true);
    expect((error as { hint?: string }).hint).toContain("gpu_1x_a10");
  });

  it("fails with E_CLOUD_QUOTA when the launch answers global/quota-exceeded, leaving nothing", async () => {
    cloud.faults.quotaExceeded = true;
    const ledger = new Ledger(join(stateDir, "machines"));
    const error = await provisionMachine(providerFor(cloud), ledger, {
      ...REQUEST,
      stateDir,
    }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("E_CLOUD_QUOTA");
    expect(await ledger.list()).toEqual([]);
    expect(await cloud.liveMachines()).toBe(0);
  });
});

describeWithHosts(
  1,
  "Lambda machines from the fake Lambda Cloud",
  () => {
    let cloud: FakeLambda;
    let stateDir: string;
    let ledger: Ledger;
    let provider: LambdaProvider;

    beforeAll(async () => {
      cloud = await new FakeLambda().start();
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      ledger = new Ledger(join(stateDir, "machines"));
      provider = providerFor(cloud);
    });
    afterEach(async () => {
      cloud.faults = noLambdaFaults();
      await tearDownLeftovers(provider, ledger);
    });
    afterAll(async () => {
      await cloud?.close();
      rmSync(stateDir, { recursive: true, force: true });
    });

    it("accepts the new machine's first host key, says so, pins it, and deletes the machine: zero left", async () => {
      const notices: string[] = [];
      const machine = await provisionMachine(provider, ledger, {
        ...REQUEST,
        stateDir,
        onNotice: (n) => notices.push(n),
      });
      expect(machine.region).toBe("us-east-1");
      expect(notices.join("\n")).toMatch(
        /accepted the host key ssh-ed25519 .* on first use .* pinned from now on/,
      );
      // The pinned key is the one the machine's image made, and the ledger records how it was trusted.
      const slot = cloud.slotOf(machine.id) ?? -1;
      const shown = execFileSync(
        "ssh-keygen",
        ["-y", "-f", join(cloud.hosts.names.stateDir, `h${slot}`, "ssh_host_ed25519_key")],
        { encoding: "utf8" },
      );
      const key = shown.trim().split(" ").slice(0, 2).join(" ");
      expect(readFileSync(machine.knownHostsFile, "utf8")).toBe(`${machine.address} ${key}\n`);
      expect(await ledger.read(machine.tag)).toMatchObject({
        hostKey: key,
        hostKeyFirstUse: true,
        id: machine.id,
      });
      const ssh = sshPinned(machine, "hostname");
      expect(ssh.stderr).toBe("");
      expect(ssh.status).toBe(0);
      expect((await provider.list(machine.tag)).map((m) => m.id)).toEqual([machine.id]);

      // A second machine reuses offload's registered login key.
      const second = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(cloud.sshKeys).toHaveLength(1);
      await tearDown(provider, ledger, second.tag, { pollMs: 50 });
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
      expect(cloud.hosts.exists(slot)).toBe(false);
    });

    it("moves to the next region on live capacity and on a launch's 400 insufficient-capacity", async () => {
      cloud.faults.noCapacityIn.add("us-east-1");
      const first = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(first.region).toBe("us-west-1");
      await tearDown(provider, ledger, first.tag, { pollMs: 50 });

      cloud.faults = { ...noLambdaFaults(), launchRefusedIn: new Set(["us-east-1"]) };
      const second = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(second.region).toBe("us-west-1");
      const launches = cloud.calls.filter((c) => c.path.endsWith("/launch"));
      expect(launches.map((c) => c.status).slice(-2)).toEqual([400, 200]);
      expect(sshPinned(second).status).toBe(0);
      await tearDown(provider, ledger, second.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("waits out a 429, adopts a 500-but-launched instance by its name, and makes exactly one", async () => {
      cloud.faults.rateLimitLaunches = 1;
      cloud.faults.launchesAnswer500 = 1;
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      const launches = cloud.calls.filter((c) => c.path.endsWith("/launch"));
      expect(launches.map((c) => c.status).slice(-2)).toEqual([429, 500]);
      expect(await cloud.liveMachines()).toBe(1);
      expect(sshPinned(machine).status).toBe(0);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("waits for an ip that comes late, and terminates an instance stuck booting", async () => {
      cloud.faults.noAddressForReads = 3;
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(sshPinned(machine).status).toBe(0);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });

      cloud.faults.stuckBooting = true;
      const error = await provisionMachine(provider, ledger, {
        ...REQUEST,
        stateDir,
        runningTimeoutMs: 1_000,
      }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe("E_MACHINE_FAILED");
      expect((error as Error).message).toMatch(/was still booting after the wait/);
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("reconcile terminates what a killed offload left: a 500-but-launched instance found by its name", async () => {
      const tag = newTag();
      await ledger.write({
        tag,
        provider: "lambda",
        state: "intent",
        keep: false,
        createdAt: new Date().toISOString(),
        owner: { ...currentOwner(), pid: deadPid() },
      });
      cloud.faults.launchesAnswer500 = 1;
      const login = {
        user: "root",
        publicKey: readFileSync(join(stateDir, "keys", "id_ed25519.pub"), "utf8"),
      };
      const error = await provider.create({ ...REQUEST.spec, login }, tag).catch((e: unknown) => e);
      expect(isProviderError(error, "transient")).toBe(true);
      expect(await cloud.liveMachines()).toBe(1);
      const result = await reconcile(provider, ledger, { pollMs: 50 });
      expect(result).toMatchObject({ deleted: [tag], owed: [], unknown: [] });
      expect(await cloud.liveMachines()).toBe(0);
      expect(await ledger.list()).toEqual([]);
    });

    it("retries terminates that fail until the instance is gone", async () => {
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      cloud.faults.failTerminates = 2;
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(
        cloud.calls.filter((c) => c.path.endsWith("/terminate") && c.status === 500),
      ).toHaveLength(2);
      expect(await cloud.liveMachines()).toBe(0);
      expect(await ledger.list()).toEqual([]);
    });
  },
  { netns: true },
);
