// The GCP provider against the fake Compute Engine, which really provisions test-bed hosts: settings and
// tokens found where gcloud finds them, the insert Operation's errors, and machines that leave nothing.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isProviderError } from "../../src/providers/errors.js";
import { GcpProvider } from "../../src/providers/gcp/compute.js";
import { readGcpSettings } from "../../src/providers/gcp/settings.js";
import { GcpTokens } from "../../src/providers/gcp/token.js";
import { currentOwner, Ledger, newTag } from "../../src/providers/ledger.js";
import { openProvider } from "../../src/providers/open.js";
import { provisionMachine } from "../../src/providers/provision.js";
import { reconcile } from "../../src/providers/reconcile.js";
import { startMachine } from "../../src/providers/restart.js";
import { tearDown } from "../../src/providers/teardown.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp, GCP_PROJECT, GCP_TOKEN, noGcpFaults } from "./fake/gcp.js";
import { deadPid, sshPinned, tearDownLeftovers } from "./pinned-ssh.js";

const FAST_RETRY = { attempts: 5, baseDelayMs: 50, maxDelayMs: 200 };
const REQUEST = {
  spec: {
    flavor: "n1-standard-2",
    image: "deeplearning-platform-release/family/pytorch-latest-cpu",
  },
  user: "root",
  sshConfig: "/dev/null",
  pollMs: 50,
};

function providerFor(cloud: FakeGcp, env: NodeJS.ProcessEnv, zones = cloud.zones): GcpProvider {
  const settings = readGcpSettings(
    { CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: cloud.endpoint, ...env },
    { zones },
  );
  return new GcpProvider({
    settings,
    tokens: new GcpTokens(env, settings.configDir),
    retry: FAST_RETRY,
  });
}

describe("GCP settings and tokens, found where gcloud finds them", () => {
  let dir: string;
  let cloud: FakeGcp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "offload-gcp-"));
    cloud = await new FakeGcp().start();
  });
  afterAll(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads project, zone and endpoint from the active configuration, CLOUDSDK_* on top", () => {
    const config = join(dir, "gcloud");
    mkdirSync(join(config, "configurations"), { recursive: true });
    writeFileSync(join(config, "active_config"), "work\n");
    writeFileSync(
      join(config, "configurations", "config_work"),
      "[core]\nproject = ml-team\naccount = a@example.com\n\n[compute]\nzone = europe-west1-b\n\n[api_endpoint_overrides]\ncompute = https://compute.example/compute/v1/\n",
    );
    expect(readGcpSettings({ CLOUDSDK_CONFIG: config })).toMatchObject({
      project: "ml-team",
      zones: ["europe-west1-b"],
      endpoint: "https://compute.example/compute/v1",
    });
    const env = {
      CLOUDSDK_CONFIG: config,
      CLOUDSDK_CORE_PROJECT: "other",
      CLOUDSDK_COMPUTE_ZONE: "us-east1-c",
    };
    expect(readGcpSettings(env)).toMatchObject({
      project: "other",
      zones: ["us-east1-c"],
      source: "CLOUDSDK_CORE_PROJECT",
    });
    expect(readGcpSettings(env, { zones: ["a-1-b", "a-1-c"] }).zones).toEqual(["a-1-b", "a-1-c"]);
  });

  it("says where to set the project when none is set", () => {
    const error = (() => {
      try {
        return readGcpSettings({ CLOUDSDK_CONFIG: join(dir, "empty") });
      } catch (e) {
        return e;
      }
    })();
    expect((error as { code?: string }).code).toBe("E_CLOUD_CONFIG");
    expect((error as { hint?: string }).hint).toContain("gcloud config set project");
  });

  it("signs a service-account JWT that the token endpoint verifies, then lists with its token", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const email = "trainer@offload-demo.iam.gserviceaccount.com";
    cloud.serviceAccounts.set(email, publicKey.export({ type: "spki", format: "pem" }).toString());
    const key = join(dir, "sa.json");
    writeFileSync(
      key,
      JSON.stringify({
        type: "service_account",
        project_id: GCP_PROJECT,
        private_key_id: "k1",
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        client_email: email,
        token_uri: cloud.tokenUri,
      }),
    );
    const env = {
      CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
      GOOGLE_APPLICATION_CREDENTIALS: key,
      PATH: "/nonexistent",
    };
    expect(await providerFor(cloud, env).list()).toEqual([]);
    // A key the endpoint does not know is refused as an auth error.
    cloud.serviceAccounts.set(
      email,
      generateKeyPairSync("rsa", { modulusLength: 2048 })
        .publicKey.export({ type: "spki", format: "pem" })
        .toString(),
    );
    const error = await providerFor(cloud, env)
      .list()
      .catch((e: unknown) => e);
    expect(isProviderError(error, "auth")).toBe(true);
    expect((error as Error).message).toContain("Invalid JWT Signature");
  });

  it("takes gcloud's application-default refresh token from its config dir", async () => {
    const config = join(dir, "adc");
    mkdirSync(config, { recursive: true });
    cloud.refreshTokens.add("1//refresh-me");
    writeFileSync(
      join(config, "application_default_credentials.json"),
      JSON.stringify({
        type: "authorized_user",
        client_id: "c.apps.googleusercontent.com",
        client_secret: "s",
        refresh_token: "1//refresh-me",
        token_uri: cloud.tokenUri,
      }),
    );
    const env = {
      CLOUDSDK_CONFIG: config,
      CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
      PATH: "/nonexistent",
    };
    expect(await providerFor(cloud, env).list()).toEqual([]);
  });

  it("asks `gcloud auth print-access-token` before Application Default Credentials", async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    // Stands in for the gcloud CLI, which cannot be installed here.
    writeFileSync(
      join(bin, "gcloud"),
      `#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] && echo ${GCP_TOKEN}\n`,
    );
    chmodSync(join(bin, "gcloud"), 0o755);
    const env = {
      CLOUDSDK_CONFIG: join(dir, "none"),
      CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
      PATH: `${bin}:/usr/bin:/bin`,
    };
    expect(await providerFor(cloud, env).list()).toEqual([]);
  });

  it("says how to log in when no credentials exist anywhere", async () => {
    const env = {
      CLOUDSDK_CONFIG: join(dir, "none"),
      CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
      PATH: "/nonexistent",
    };
    const error = await providerFor(cloud, env)
      .list()
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("E_CLOUD_AUTH");
    expect((error as { hint?: string }).hint).toContain("gcloud auth login");
  });

  it("never takes a 404 that is not Compute's own for a deleted machine (a wrong endpoint)", async () => {
    const proxy = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<html>Not Found</html>");
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const settings = readGcpSettings(
        {
          CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
          CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `http://127.0.0.1:${port}/compute/v1/`,
        },
        { zones: ["europe-west1-b"] },
      );
      const provider = new GcpProvider({
        settings,
        tokens: new GcpTokens({ GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN }, dir),
        retry: FAST_RETRY,
      });
      const error = await provider
        .describe("offload-0123456789ab", "europe-west1-b")
        .catch((e: unknown) => e);
      expect(isProviderError(error, "request")).toBe(true);
    } finally {
      proxy.close();
    }
  });

  it("answers a bad machine type as a request error naming it", async () => {
    const provider = providerFor(cloud, {
      GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN,
      CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
    });
    const error = await provider
      .create({ ...REQUEST.spec, flavor: "n9-huge" }, "offload-t-bad")
      .catch((e: unknown) => e);
    expect(isProviderError(error, "request")).toBe(true);
    expect((error as Error).message).toContain("Machine type with name 'n9-huge' does not exist");
  });
});

describeWithHosts(
  1,
  "GCP machines from the fake Compute Engine",
  () => {
    let cloud: FakeGcp;
    let stateDir: string;
    let ledger: Ledger;
    let provider: GcpProvider;

    beforeAll(async () => {
      cloud = await new FakeGcp().start();
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      ledger = new Ledger(join(stateDir, "machines"));
      provider = providerFor(cloud, {
        GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN,
        CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
      });
    });
    afterEach(async () => {
      cloud.faults = noGcpFaults();
      await tearDownLeftovers(provider, ledger);
    });
    afterAll(async () => {
      await cloud?.close();
      rmSync(stateDir, { recursive: true, force: true });
    });

    it("creates a labelled instance reachable with its pinned host key, then deletes it: zero left", async () => {
      const provider = openProvider({
        kind: "gcp",
        regions: cloud.zones,
        env: {
          GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN,
          CLOUDSDK_CORE_PROJECT: GCP_PROJECT,
          CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: cloud.endpoint,
          CLOUDSDK_CONFIG: join(stateDir, "none"),
        },
      });
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(machine.region).toBe("europe-west1-b");
      expect((await provider.list(machine.tag)).map((m) => m.id)).toEqual([machine.id]);
      const ssh = sshPinned(machine, "hostname");
      expect(ssh.stderr).toBe("");
      expect(ssh.status).toBe(0);
      // The host key the machine shows is the one offload put in user-data.
      const slot = cloud.slotOf(machine.id) ?? -1;
      const shown = execFileSync(
        "ssh-keygen",
        ["-y", "-f", join(cloud.hosts.names.stateDir, `h${slot}`, "ssh_host_ed25519_key")],
        { encoding: "utf8" },
      );
      expect(readFileSync(machine.knownHostsFile, "utf8")).toBe(
        `${machine.address} ${shown.trim().split(" ").slice(0, 2).join(" ")}\n`,
      );
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
      expect(cloud.hosts.exists(slot)).toBe(false);
    });

    it("moves to the next zone when the insert Operation says ZONE_RESOURCE_POOL_EXHAUSTED", async () => {
      cloud.faults.noCapacityIn.add("europe-west1-b");
      const waits: string[] = [];
      const machine = await provisionMachine(provider, ledger, {
        ...REQUEST,
        stateDir,
        onWait: (w) => waits.push(w),
      });
      expect(machine.region).toBe("europe-west1-c");
      expect(waits.join("\n")).toContain(
        "europe-west1-b has no capacity (ZONE_RESOURCE_POOL_EXHAUSTED",
      );
      expect(sshPinned(machine).status).toBe(0);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("fails with E_CLOUD_QUOTA when the Operation says QUOTA_EXCEEDED, leaving nothing", async () => {
      cloud.faults.quotaExceeded = true;
      const error = await provisionMachine(provider, ledger, { ...REQUEST, stateDir }).catch(
        (e: unknown) => e,
      );
      expect((error as { code?: string }).code).toBe("E_CLOUD_QUOTA");
      expect((error as Error).message).toContain("QUOTA_EXCEEDED: Quota 'CPUS' exceeded");
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("waits out a 429, adopts a 500-but-created instance, and makes exactly one", async () => {
      cloud.faults.rateLimitInserts = 1;
      cloud.faults.insertsAnswer500 = 1;
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      const inserts = cloud.calls.filter(
        (c) => c.method === "POST" && c.path.endsWith("/instances"),
      );
      expect(inserts.map((c) => c.status).slice(-2)).toEqual([429, 500]);
      expect(await cloud.liveMachines()).toBe(1);
      expect(sshPinned(machine).status).toBe(0);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("waits for an address that comes late, and deletes an instance stuck in PROVISIONING", async () => {
      cloud.faults.noAddressForReads = 3;
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      expect(sshPinned(machine).status).toBe(0);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });

      cloud.faults.stuckProvisioning = true;
      const error = await provisionMachine(provider, ledger, {
        ...REQUEST,
        stateDir,
        runningTimeoutMs: 1_000,
      }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe("E_MACHINE_FAILED");
      expect((error as Error).message).toMatch(/was still PROVISIONING after the wait/);
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("stops and starts at a new external address: the pin moves, ssh stays strict", async () => {
      const machine = await provisionMachine(provider, ledger, {
        ...REQUEST,
        stateDir,
        keep: true,
      });
      await provider.stop(machine.id, machine.region);
      await provider.stop(machine.id, machine.region);
      cloud.faults.newAddressOnStart = true;
      const started = await startMachine(provider, ledger, machine.tag, {
        sshConfig: "/dev/null",
        pollMs: 50,
      });
      expect(started.address).not.toBe(machine.address);
      expect(sshPinned(started).status).toBe(0);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("reconcile deletes what a killed offload left: a 500-but-created instance known only by its label", async () => {
      const tag = newTag();
      await ledger.write({
        tag,
        provider: "gcp",
        state: "intent",
        keep: false,
        createdAt: new Date().toISOString(),
        owner: { ...currentOwner(), pid: deadPid() },
        region: "europe-west1-b",
      });
      cloud.faults.insertsAnswer500 = 1;
      const error = await provider
        .create({ ...REQUEST.spec, region: "europe-west1-b" }, tag)
        .catch((e: unknown) => e);
      expect(isProviderError(error, "transient")).toBe(true);
      expect(await cloud.liveMachines()).toBe(1);
      const result = await reconcile(provider, ledger, { pollMs: 50 });
      expect(result).toMatchObject({ deleted: [tag], owed: [], unknown: [] });
      expect(await cloud.liveMachines()).toBe(0);
      expect(await ledger.list()).toEqual([]);
    });

    it("retries deletes that fail until the instance is gone", async () => {
      const machine = await provisionMachine(provider, ledger, { ...REQUEST, stateDir });
      cloud.faults.failDeletes = 2;
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(cloud.calls.filter((c) => c.method === "DELETE" && c.status === 500)).toHaveLength(2);
      expect(await cloud.liveMachines()).toBe(0);
      expect(await ledger.list()).toEqual([]);
    });
  },
  { netns: true },
);
