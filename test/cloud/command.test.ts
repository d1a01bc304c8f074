// The command provider: a cloud driven through its own CLI. Here the "CLI" is curl + jq against the fake
// Compute Engine REST API (which really provisions test-bed hosts), as a user without gcloud could write it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findAddresses, pickAddress } from "../../src/providers/address.js";
import {
  findId,
  findMachines,
  findRawState,
  stateOfWord,
} from "../../src/providers/command/parse.js";
import { Ledger } from "../../src/providers/ledger.js";
import { type CloudOptions, openProvider } from "../../src/providers/open.js";
import { provisionMachine } from "../../src/providers/provision.js";
import { tearDown } from "../../src/providers/teardown.js";
import type { Provider } from "../../src/providers/types.js";
import { runCli } from "../support/cli.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp, GCP_PROJECT, GCP_TOKEN, noGcpFaults } from "./fake/gcp.js";
import { sshPinned, tearDownLeftovers } from "./pinned-ssh.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/cloud", name), "utf8"));

describe("reading a cloud CLI's JSON", () => {
  it("finds the id, state and address in AWS's describe-instances output", () => {
    const output = fixture("aws-describe-instances.json");
    const [machine] = findMachines(output);
    expect(findId(output)).toBe("i-1234567890abcdef0");
    expect(findRawState(machine ?? {})).toBe("running");
    expect(pickAddress(findAddresses(machine))).toBe("34.253.223.13");
  });

  it("finds a GCP instance in gcloud's list output by the id field the user names", () => {
    const output = [fixture("gcp-instance-external.json")];
    expect(findId(output, "name")).toBe((output[0] as { name: string }).name);
  });

  it("reads state words, with the target's overrides winning (GCP's TERMINATED is stopped)", () => {
    expect(stateOfWord("terminated")).toBe("gone");
    expect(stateOfWord("TERMINATED", { TERMINATED: "stopped" })).toBe("stopped");
    expect(stateOfWord("shutting-down")).toBe("terminating");
    expect(stateOfWord("PROVISIONING")).toBe("pending");
    expect(stateOfWord("unhealthy")).toBe("error");
  });
});

describeWithHosts(
  1,
  "command provider: curl + jq against the fake Compute Engine",
  () => {
    let cloud: FakeGcp;
    let stateDir: string;
    let ledger: Ledger;
    let provider: Provider;
    let env: Record<string, string>;
    let options: CloudOptions;

    beforeAll(async () => {
      cloud = await new FakeGcp().start();
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      ledger = new Ledger(join(stateDir, "machines"));
      const auth = `printf 'Authorization: Bearer %s\\n' "$GCP_TOKEN" | curl -sSf -H @-`;
      const api = `$GCP_API/projects/${GCP_PROJECT}`;
      // The token reaches curl through the environment and stdin, never argv.
      env = {
        GCP_TOKEN,
        GCP_API: cloud.endpoint.replace(/\/$/, ""),
        MODE_LOG: join(stateDir, "mode"),
      };
      options = {
        create: [
          `stat -c %a "$OFFLOAD_USER_DATA_FILE" > "$MODE_LOG" && echo "$OFFLOAD_USER_DATA_FILE" >> "$MODE_LOG"`,
          `jq -n --arg name "$OFFLOAD_TAG" --arg type "$OFFLOAD_FLAVOR" --arg zone "$OFFLOAD_REGION" --arg keys "$OFFLOAD_USER:$OFFLOAD_PUBLIC_KEY" --rawfile ud "$OFFLOAD_USER_DATA_FILE" '{name: $name, machineType: ("zones/" + $zone + "/machineTypes/" + $type), labels: {"offload-tag": $name}, metadata: {items: [{key: "ssh-keys", value: $keys}, {key: "user-data", value: $ud}]}, networkInterfaces: [{accessConfigs: [{type: "ONE_TO_ONE_NAT"}]}]}' > "$OFFLOAD_USER_DATA_FILE.json"`,
          `${auth} -H 'content-type: application/json' --data-binary @"$OFFLOAD_USER_DATA_FILE.json" "${api}/zones/$OFFLOAD_REGION/instances" > /dev/null`,
          `jq -n --arg id "$OFFLOAD_TAG" '{id: $id}'`,
        ].join(" && "),
        describe: `${auth} "${api}/zones/$OFFLOAD_REGION/instances/$OFFLOAD_ID"`,
        delete: `${auth} -X DELETE "${api}/zones/$OFFLOAD_REGION/instances/$OFFLOAD_ID"`,
        list: `${auth} -G --data-urlencode 'filter=labels.offload-tag:*' "${api}/aggregated/instances"`,
        id_field: "name",
        states: { TERMINATED: "stopped" },
      };
      provider = openProvider({
        kind: "command",
        regions: ["europe-west1-b"],
        env: { ...process.env, ...env },
        options,
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

    it("creates a machine through the user's commands, pins the host key it passed, deletes it: zero left", async () => {
      const machine = await provisionMachine(provider, ledger, {
        spec: { flavor: "e2-small", image: "debian-cloud/family/debian-12" },
        user: "root",
        sshConfig: "/dev/null",
        pollMs: 50,
        stateDir,
      });
      // The user data (the host's private key) was a private file, gone after the create.
      const [mode, file] = readFileSync(join(stateDir, "mode"), "utf8").trim().split("\n");
      expect(mode).toBe("600");
      expect(readFileSync(machine.knownHostsFile, "utf8")).toMatch(/ ssh-ed25519 /);
      expect(existsSync(file ?? "")).toBe(false);
      expect(file).toMatch(/offload-userdata-/);
      const ssh = sshPinned(machine, "hostname");
      expect(ssh.stderr).toBe("");
      expect(ssh.status).toBe(0);
      expect((await provider.list(machine.tag)).map((m) => m.id)).toEqual([machine.id]);
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(await ledger.list()).toEqual([]);
      expect(await cloud.liveMachines()).toBe(0);
    });

    it("`offload down --all` reaches a command machine with the commands the ledger recorded", async () => {
      const machine = await provisionMachine(provider, ledger, {
        spec: { flavor: "e2-small", image: "debian-cloud/family/debian-12" },
        user: "root",
        sshConfig: "/dev/null",
        pollMs: 50,
        stateDir,
        options,
      });
      expect(await cloud.liveMachines()).toBe(1);
      const result = await runCli(["down", "--all"], {
        cwd: tmpdir(),
        env: { ...env, OFFLOAD_STATE_DIR: stateDir },
      });
      expect(result.stderr).toContain(`${machine.tag}: gone`);
      expect(result.code).toBe(0);
      expect(await cloud.liveMachines()).toBe(0);
      expect(await ledger.list()).toEqual([]);
    });

    it("finds a machine whose create answered 500 by its tag, and retries a failing delete until gone", async () => {
      cloud.faults.insertsAnswer500 = 1;
      const machine = await provisionMachine(provider, ledger, {
        spec: { flavor: "e2-small", image: "debian-cloud/family/debian-12" },
        user: "root",
        sshConfig: "/dev/null",
        pollMs: 50,
        stateDir,
      });
      expect(await cloud.liveMachines()).toBe(1);
      expect(sshPinned(machine).status).toBe(0);
      cloud.faults.failDeletes = 2;
      await tearDown(provider, ledger, machine.tag, { pollMs: 50 });
      expect(cloud.calls.filter((c) => c.method === "DELETE" && c.status === 500)).toHaveLength(2);
      expect(await cloud.liveMachines()).toBe(0);
    });
  },
  { netns: true },
);
