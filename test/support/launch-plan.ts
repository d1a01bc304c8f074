// A launch plan for tests that run the launch script in a real shell: nothing to set up, start or shut
// down, one second's grace, followed; the test's own fields over them.
import type { LaunchPlan } from "../../src/remote/launch.js";

export function makeLaunchPlan(
  fields: Pick<LaunchPlan, "runId" | "remoteDir" | "command"> & Partial<LaunchPlan>,
): LaunchPlan {
  return {
    env: {},
    startup: [],
    shutdown: [],
    graceSeconds: 1,
    follow: true,
    receiveLines: [],
    setupLines: [],
    ...fields,
  };
}
