// What the `offload run` tests on the fake OpenStack share: the user's environment for it, and the
// ledger as files.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEMO_USER, type FakeOpenStack } from "./openstack.js";

/** The OS_* variables the openstack CLI reads, pointing at the fake, and offload's own state dir. */
export function openStackEnv(cloud: FakeOpenStack, home: string, stateDir: string) {
  return {
    HOME: home,
    OFFLOAD_STATE_DIR: stateDir,
    OS_AUTH_URL: cloud.authUrl,
    OS_USERNAME: DEMO_USER.username,
    OS_PASSWORD: DEMO_USER.password,
    OS_PROJECT_NAME: DEMO_USER.project,
    OS_REGION_NAME: "RegionOne",
  };
}

/** The machines offload's ledger holds (one file a machine). */
export function ledgerFiles(stateDir: string): string[] {
  try {
    return readdirSync(join(stateDir, "machines")).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
}

/** The ledger entries, read while they are there. */
export function ledgerEntries(stateDir: string): { id?: string; tag: string; state: string }[] {
  return ledgerFiles(stateDir).map((file) =>
    JSON.parse(readFileSync(join(stateDir, "machines", file), "utf8")),
  );
}
