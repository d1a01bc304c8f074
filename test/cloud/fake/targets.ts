// The cloud targets the `offload run` tests write into offload.yaml, one per fake cloud, with the user's
// environment each needs: written once so the tests of one provider drive the same target.
import { join } from "node:path";
import { type FakeGcp, GCP_PROJECT, GCP_TOKEN } from "./gcp.js";
import { powerOffCommand } from "./hosts.js";
import { type FakeLambda, LAMBDA_KEY } from "./lambda.js";

/** A target's offload.yaml lines and the environment its provider reads. */
export interface CloudTarget {
  lines: string[];
  env: Record<string, string>;
}

/**
 * offload.yaml with the target `name` (`box` unless said): `target`'s lines, user root and a dead-man
 * switch that powers the test-bed host off; `top` lines go before `targets:`.
 */
export function cloudYaml(
  target: string[],
  options: { name?: string; top?: string[] } = {},
): string {
  return [
    ...(options.top ?? []),
    "targets:",
    `  ${options.name ?? "box"}:`,
    ...target.map((line) => `    ${line}`),
    "    user: root",
    `    dead_man: { after: 60s, command: ${JSON.stringify(powerOffCommand())} }`,
    "",
  ].join("\n");
}

/** offload.yaml's `h100` on the fake OpenStack, one lost attempt retried on a fresh machine; `top` lines first. */
export function openStackRetryYaml(top: string[] = []): string {
  return cloudYaml(
    [
      "cloud: openstack",
      "flavor: gpu.h100.1",
      "image: Ubuntu-22.04",
      "network: auto",
      "price_per_hour: 2.49",
    ],
    {
      name: "h100",
      top: [
        ...top,
        "retry: { attempts: 2, on: [lost], backoff: 1s }",
        "reconnect: { timeout: 3 }",
        "ssh: { keepalive: 1 }",
      ],
    },
  );
}

/** offload's environment for a cloud run: its own home and state dir, gcloud's config kept in it. */
export function cloudRunEnv(
  home: string,
  stateDir: string,
  target: Record<string, string>,
): Record<string, string> {
  return {
    HOME: home,
    OFFLOAD_STATE_DIR: stateDir,
    CLOUDSDK_CONFIG: join(stateDir, "gcloud"),
    ...target,
  };
}

export function gcpTarget(gcp: FakeGcp): CloudTarget {
  return {
    lines: [
      "cloud: gcp",
      "flavor: e2-small",
      "image: debian-cloud/family/debian-12",
      "region: [europe-west1-b]",
      `gcp: { project: ${GCP_PROJECT} }`,
    ],
    env: {
      GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN,
      CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: gcp.endpoint,
    },
  };
}

export function lambdaTarget(lambda: FakeLambda): CloudTarget {
  return {
    lines: [
      "cloud: lambda",
      "flavor: gpu_1x_a10",
      "region: [us-east-1]",
      `lambda: { base_url: "${lambda.baseUrl}" }`,
    ],
    env: { LAMBDA_API_KEY: LAMBDA_KEY },
  };
}

/**
 * `cloud: command` on the fake Compute Engine: the user's commands are curl + jq on its API. The create
 * waits $CREATE_PAUSE seconds (0 here) after the cloud made the machine, before printing its id.
 */
export function commandTarget(gcp: FakeGcp): CloudTarget {
  const auth = `printf 'Authorization: Bearer %s\\n' "$GCP_TOKEN" | curl -sSf -H @-`;
  const api = `$GCP_API/projects/${GCP_PROJECT}`;
  const create = [
    `jq -n --arg name "$OFFLOAD_TAG" --arg type "$OFFLOAD_FLAVOR" --arg zone "$OFFLOAD_REGION" --arg keys "$OFFLOAD_USER:$OFFLOAD_PUBLIC_KEY" --rawfile ud "$OFFLOAD_USER_DATA_FILE" '{name: $name, machineType: ("zones/" + $zone + "/machineTypes/" + $type), labels: {"offload-tag": $name}, metadata: {items: [{key: "ssh-keys", value: $keys}, {key: "user-data", value: $ud}]}, networkInterfaces: [{accessConfigs: [{type: "ONE_TO_ONE_NAT"}]}]}' > "$OFFLOAD_USER_DATA_FILE.json"`,
    `${auth} -H 'content-type: application/json' --data-binary @"$OFFLOAD_USER_DATA_FILE.json" "${api}/zones/$OFFLOAD_REGION/instances" > /dev/null`,
    // The cloud made the machine; its CLI has not printed the id yet.
    `sleep "$CREATE_PAUSE"`,
    `jq -n --arg id "$OFFLOAD_TAG" '{id: $id}'`,
  ].join(" && ");
  return {
    lines: [
      "cloud: command",
      "flavor: e2-small",
      "image: debian-12",
      "region: [europe-west1-b]",
      "command:",
      `  create: ${JSON.stringify(create)}`,
      `  describe: ${JSON.stringify(`${auth} "${api}/zones/$OFFLOAD_REGION/instances/$OFFLOAD_ID"`)}`,
      `  delete: ${JSON.stringify(`${auth} -X DELETE "${api}/zones/$OFFLOAD_REGION/instances/$OFFLOAD_ID"`)}`,
      `  list: ${JSON.stringify(`${auth} -G --data-urlencode 'filter=labels.offload-tag:*' "${api}/aggregated/instances"`)}`,
      "  id_field: name",
      "  states: { TERMINATED: stopped }",
    ],
    env: {
      GCP_TOKEN,
      GCP_API: gcp.endpoint.replace(/\/$/, ""),
      CREATE_PAUSE: "0",
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    },
  };
}
