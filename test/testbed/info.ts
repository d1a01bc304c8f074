// Owns building the TestbedInfo that tests receive, from the names and what is up.

import { join } from "node:path";
import { clientFiles, type TestbedNames } from "./names.js";
import type { TestbedInfo, TestbedMode } from "./types.js";

export function describeBed(
  names: TestbedNames,
  mode: TestbedMode,
  hosts: string[],
  reason?: string,
  faultHosts: string[] = [],
): TestbedInfo {
  return {
    mode,
    hosts,
    faultHosts,
    ...clientFiles(names),
    identityFile: join(names.stateDir, "id_ed25519"),
    stateDir: names.stateDir,
    ...(reason === undefined ? {} : { reason }),
  };
}
