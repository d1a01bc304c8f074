// `offload run` on `cloud: gcp`, `cloud: lambda` and `cloud: command` targets, each against its fake
// cloud whose machines are real test-bed hosts: the same path as OpenStack (lease, dead-man switch,
// outputs home, the machine deleted), a tiny real job each.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";
import { FakeGcp, GCP_PROJECT, GCP_TOKEN } from "./fake/gcp.js";
import { powerOffCommand } from "./fake/hosts.js";
import { FakeLambda, LAMBDA_KEY } from "./fake/lambda.js";

const JOB = [
  "sh",
  "-c",
  "mkdir -p outputs && echo '{\"loss\": 0.5}' > outputs/metrics.json && echo trained",
];

function offloadYaml(target: string[]): string {
  return [
    "download:",
    "  - outputs/metrics.json",
    "targets:",
    "  box:",
    ...target.map((line) => `    ${line}`),
    "    user: root",
    `    dead_man: { after: 60s, command: ${JSON.stringify(powerOffCommand())} }`,
    "",
  ].join("\n");
}

describeWithHosts(
  1,
  "offload run on gcp, lambda and command targets",
  () => {
    let gcp: FakeGcp;
    let lambda: FakeLambda;
    let stateDir: string;
    let project: TempProject | undefined;

    beforeAll(async () => {
      gcp = await new FakeGcp().start();
      lambda = await new FakeLambda().start();
    });
    afterAll(async () => {
      await gcp?.close();
      await lambda?.close();
    });
    afterEach(async () => {
      await project?.remove();
      project = undefined;
      rmSync(stateDir, { recursive: true, force: true });
    });

    async function runOn(target: string[], env: Record<string, string>) {
      stateDir = mkdtempSync(join(tmpdir(), "offload-state-"));
      project = await makeProject();
      await project.write("offload.yaml", offloadYaml(target));
      const result = await runCli(["run", "--host", "box", "--", ...JOB], {
        cwd: project.dir,
        env: {
          HOME: project.home,
          OFFLOAD_STATE_DIR: stateDir,
          CLOUDSDK_CONFIG: join(stateDir, "gcloud"),
          ...env,
        },
        timeoutMs: 170_000,
      });
      const [id] = await project.runIds();
      const record = id === undefined ? undefined : await project.record(id);
      const ledger = readdirSync(join(stateDir, "machines")).filter((f) => f.endsWith(".json"));
      return { result, record, ledger };
    }

    it("gcp: runs on a Compute Engine machine it makes and deletes it", async () => {
      const { result, record, ledger } = await runOn(
        [
          "cloud: gcp",
          "flavor: e2-small",
          "image: debian-cloud/family/debian-12",
          "region: [europe-west1-b]",
          "price_per_hour: 0.02",
          `gcp: { project: ${GCP_PROJECT} }`,
        ],
        {
          GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN,
          CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: gcp.endpoint,
        },
      );
      expect(result.stderr).toContain("finished (exit 0)");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("trained");
      expect(record).toMatchObject({
        status: "succeeded",
        machine: { provider: "gcp", flavor: "e2-small" },
      });
      expect(record?.artifacts).toEqual(["outputs/metrics.json"]);
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledger).toEqual([]);
    });

    it("lambda: priced live, the first host key accepted and said, the machine deleted", async () => {
      const { result, record, ledger } = await runOn(
        [
          "cloud: lambda",
          "flavor: gpu_1x_a10",
          "region: [us-east-1]",
          `lambda: { base_url: "${lambda.baseUrl}" }`,
        ],
        { LAMBDA_API_KEY: LAMBDA_KEY },
      );
      expect(result.stderr).toContain("finished (exit 0)");
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("$0.75/h (lambda live price)");
      expect(result.stderr).toMatch(/accepted the host key ssh-ed25519 .* on first use/);
      expect(record).toMatchObject({
        status: "succeeded",
        machine: { provider: "lambda", usdPerHour: 0.75 },
      });
      expect(await lambda.liveMachines()).toBe(0);
      expect(ledger).toEqual([]);
    });

    it("command: runs on a machine made by the user's commands (curl + jq on Compute Engine's API)", async () => {
      const auth = `printf 'Authorization: Bearer %s\\n' "$GCP_TOKEN" | curl -sSf -H @-`;
      const api = `$GCP_API/projects/${GCP_PROJECT}`;
      const create = [
        `jq -n --arg name "$OFFLOAD_TAG" --arg type "$OFFLOAD_FLAVOR" --arg zone "$OFFLOAD_REGION" --arg keys "$OFFLOAD_USER:$OFFLOAD_PUBLIC_KEY" --rawfile ud "$OFFLOAD_USER_DATA_FILE" '{name: $name, machineType: ("zones/" + $zone + "/machineTypes/" + $type), labels: {"offload-tag": $name}, metadata: {items: [{key: "ssh-keys", value: $keys}, {key: "user-data", value: $ud}]}, networkInterfaces: [{accessConfigs: [{type: "ONE_TO_ONE_NAT"}]}]}' > "$OFFLOAD_USER_DATA_FILE.json"`,
        `${auth} -H 'content-type: application/json' --data-binary @"$OFFLOAD_USER_DATA_FILE.json" "${api}/zones/$OFFLOAD_REGION/instances" > /dev/null`,
        `jq -n --arg id "$OFFLOAD_TAG" '{id: $id}'`,
      ].join(" && ");
      const { result, record, ledger } = await runOn(
        [
          "cloud: command",
          "flavor: e2-small",
          "image: debian-12",
          "region: [europe-west1-b]",
          "price_per_hour: 0.02",
          "command:",
          `  create: ${JSON.stringify(create)}`,
          `  describe: ${JSON.stringify(`${auth} "${api}/zones/$OFFLOAD_REGION/instances/$OFFLOAD_ID"`)}`,
          `  delete: ${JSON.stringify(`${auth} -X DELETE "${api}/zones/$OFFLOAD_REGION/instances/$OFFLOAD_ID"`)}`,
          `  list: ${JSON.stringify(`${auth} -G --data-urlencode 'filter=labels.offload-tag:*' "${api}/aggregated/instances"`)}`,
          "  id_field: name",
          "  states: { TERMINATED: stopped }",
        ],
        {
          GCP_TOKEN,
          GCP_API: gcp.endpoint.replace(/\/$/, ""),
          PATH: process.env.PATH ?? "/usr/bin:/bin",
        },
      );
      expect(result.stderr).toContain("finished (exit 0)");
      expect(result.code).toBe(0);
      expect(record).toMatchObject({ status: "succeeded", machine: { provider: "command" } });
      expect(await gcp.liveMachines()).toBe(0);
      expect(ledger).toEqual([]);
    });
  },
  { netns: true },
);
