// The OpenStack provider against the fake Keystone + Nova, which really provisions test-bed hosts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProviderError } from "../../src/providers/errors.js";
import { readOpenStackCredentials } from "../../src/providers/openstack/credentials.js";
import { OpenStackProvider } from "../../src/providers/openstack/nova.js";
import type { MachineDescription } from "../../src/providers/types.js";
import { describeWithHosts } from "../testbed/index.js";
import { slotOf } from "./fake/nova.js";
import { DEMO_USER, FakeOpenStack } from "./fake/openstack.js";

const FAST_RETRY = { attempts: 5, baseDelayMs: 50, maxDelayMs: 200 };

function envFor(cloud: FakeOpenStack, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    OS_AUTH_URL: cloud.authUrl,
    OS_USERNAME: DEMO_USER.username,
    OS_PASSWORD: DEMO_USER.password,
    OS_PROJECT_NAME: DEMO_USER.project,
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_REGION_NAME: "RegionOne",
    ...extra,
  };
}

async function waitFor(
  provider: OpenStackProvider,
  id: string,
  until: (d: MachineDescription) => boolean,
): Promise<MachineDescription> {
  for (;;) {
    const d = await provider.describe(id);
    if (until(d)) return d;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("OpenStack credentials, read as the openstack CLI reads them", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "offload-os-creds-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes clouds.yaml's cloud named by OS_CLOUD, with OS_PASSWORD on top", () => {
    mkdirSync(join(dir, "home/.config/openstack"), { recursive: true });
    writeFileSync(
      join(dir, "home/.config/openstack/clouds.yaml"),
      [
        "clouds:",
        "  canopy:",
        "    region_name: seq",
        "    auth:",
        "      auth_url: https://keystone.example:5000",
        "      username: alice",
        "      project_name: ml",
        "      user_domain_name: Default",
        "      project_domain_name: Default",
      ].join("\n"),
    );
    const creds = readOpenStackCredentials(
      { HOME: join(dir, "home"), OS_CLOUD: "canopy", OS_PASSWORD: "from-env" },
      join(dir, "nowhere"),
    );
    expect(creds).toMatchObject({
      authUrl: "https://keystone.example:5000",
      authType: "password",
      username: "alice",
      password: "from-env",
      projectName: "ml",
      regionName: "seq",
      interface: "public",
    });
  });

  it("says which file lacks the cloud OS_CLOUD names", () => {
    expect(() =>
      readOpenStackCredentials({ HOME: join(dir, "home"), OS_CLOUD: "missing" }, dir),
    ).toThrow(/OS_CLOUD is "missing" but .*clouds.yaml has no such cloud/);
  });

  it("takes an application credential from the variables Horizon's openrc sets", () => {
    const creds = readOpenStackCredentials({
      OS_AUTH_TYPE: "v3applicationcredential",
      OS_AUTH_URL: "https://keystone.example:5000/v3",
      OS_APPLICATION_CREDENTIAL_ID: "abc",
      OS_APPLICATION_CREDENTIAL_SECRET: "xyz",
      HOME: dir,
    });
    expect(creds).toMatchObject({
      authType: "v3applicationcredential",
      applicationCredentialId: "abc",
    });
  });
});

describe("OpenStack provider against the fake cloud (API only)", () => {
  let cloud: FakeOpenStack;
  beforeAll(async () => {
    cloud = await new FakeOpenStack({
      appCredentials: [{ id: "app-1", secret: "app-secret" }],
    }).start();
  });
  afterAll(() => cloud.close());

  it("refuses wrong credentials as an auth error naming their source", async () => {
    const creds = readOpenStackCredentials(envFor(cloud, { OS_PASSWORD: "wrong" }));
    const provider = new OpenStackProvider({ credentials: creds, retry: FAST_RETRY });
    const error = await provider.list().catch((e: unknown) => e);
    expect(isProviderError(error, "auth")).toBe(true);
    expect(String(error)).toContain("OS_* variables");
  });

  it("authenticates with an application credential and lists nothing yet", async () => {
    const creds = readOpenStackCredentials({
      OS_AUTH_URL: cloud.authUrl,
      OS_AUTH_TYPE: "v3applicationcredential",
      OS_APPLICATION_CREDENTIAL_ID: "app-1",
      OS_APPLICATION_CREDENTIAL_SECRET: "app-secret",
      HOME: "/nonexistent",
    });
    const provider = new OpenStackProvider({
      credentials: creds,
      regions: ["RegionOne", "RegionTwo"],
    });
    expect(await provider.list()).toEqual([]);
  });

  it("authenticates again after Keystone failed for a while (a failed token is not kept)", async () => {
    cloud.keystone.failNext = 2;
    const provider = new OpenStackProvider({
      credentials: readOpenStackCredentials(envFor(cloud)),
      retry: FAST_RETRY,
    });
    expect(await provider.list()).toEqual([]);
    expect(cloud.keystone.failNext).toBe(0);
  });

  it("names the flavors there when the flavor does not exist", async () => {
    const provider = new OpenStackProvider({
      credentials: readOpenStackCredentials(envFor(cloud)),
    });
    const error = await provider
      .create({ flavor: "gpu.b200.8", image: "Ubuntu-22.04" }, "offload-t-x")
      .catch((e: unknown) => e);
    expect(isProviderError(error, "request")).toBe(true);
    expect((error as Error).message).toBe('no flavor "gpu.b200.8" in RegionOne');
    expect((error as { hint?: string }).hint).toContain("gpu.h100.1");
  });

  it("answers a quota refusal as a quota error", async () => {
    cloud.faults.quotaExceeded = true;
    try {
      const provider = new OpenStackProvider({
        credentials: readOpenStackCredentials(envFor(cloud)),
      });
      const error = await provider
        .create({ flavor: "m1.tiny", image: "Ubuntu-22.04" }, "offload-t-q")
        .catch((e: unknown) => e);
      expect(isProviderError(error, "quota")).toBe(true);
      expect((error as { code?: string }).code).toBe("E_CLOUD_QUOTA");
    } finally {
      cloud.faults.quotaExceeded = false;
    }
  });
});

describeWithHosts(
  1,
  "OpenStack provider: real machines from the fake cloud",
  () => {
    let cloud: FakeOpenStack;
    beforeAll(async () => {
      cloud = await new FakeOpenStack().start();
    });
    afterAll(() => cloud.close());

    it("creates a tagged server that becomes ACTIVE with a floating address, then terminates it", async () => {
      const provider = new OpenStackProvider({
        credentials: readOpenStackCredentials(envFor(cloud)),
        retry: FAST_RETRY,
      });
      const id = await provider.create(
        { flavor: "gpu.h100.1", image: "Ubuntu-22.04", network: "private" },
        "offload-t-1",
      );
      const running = await waitFor(provider, id, (d) => d.state !== "pending");
      expect(running).toMatchObject({ state: "running", rawState: "ACTIVE", tag: "offload-t-1" });
      const slot = slotOf(cloud.nova, id) ?? -1;
      expect(running.addresses.public).toEqual([cloud.hosts.address(slot)]);
      expect(cloud.hosts.exists(slot)).toBe(true);
      expect((await provider.list("offload-t-1")).map((d) => d.id)).toEqual([id]);
      await provider.terminate(id);
      await provider.terminate(id);
      await waitFor(provider, id, (d) => d.state === "gone");
      expect(await cloud.liveMachines()).toBe(0);
      expect(cloud.hosts.exists(slot)).toBe(false);
    });

    it("stops and starts a server (os-stop/os-start), each twice without error", async () => {
      const provider = new OpenStackProvider({
        credentials: readOpenStackCredentials(envFor(cloud)),
        retry: FAST_RETRY,
      });
      const id = await provider.create({ flavor: "m1.tiny", image: "Ubuntu-22.04" }, "offload-t-2");
      await waitFor(provider, id, (d) => d.state === "running");
      await provider.stop(id);
      const stopped = await waitFor(provider, id, (d) => d.state === "stopped");
      expect(stopped.rawState).toBe("SHUTOFF");
      const slot = slotOf(cloud.nova, id) ?? -1;
      expect(cloud.hosts.isServing(slot)).toBe(false);
      await provider.stop(id);
      await provider.start(id);
      await waitFor(provider, id, (d) => d.state === "running");
      expect(cloud.hosts.exists(slot)).toBe(true);
      await provider.terminate(id);
      expect(await cloud.liveMachines()).toBe(0);
    });
  },
  { netns: true },
);
