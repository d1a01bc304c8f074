import { describe, expect, it } from "vitest";
import {
  type EnvBed,
  HAS_VENV,
  keyOf,
  planFor,
  runEnvScript,
  runInEnv,
  useEnvBed,
} from "./venv-fixture.js";

let bed: EnvBed;
useEnvBed((made) => {
  bed = made;
});

describe.skipIf(!HAS_VENV)("a cached Python env on the host's packages", () => {
  it("sees the host's packages (torch) only with system_site_packages", async () => {
    const isolated = await runEnvScript(bed, planFor(bed, { requirements: [], key: keyOf("") }));
    const shared = await runEnvScript(
      bed,
      planFor(bed, { requirements: [], systemSitePackages: true, key: keyOf("", true) }),
    );
    if (isolated.result?.status !== "built" || shared.result?.status !== "built")
      throw new Error(`${isolated.stdout}\n${shared.stdout}`);
    const probe = "import importlib.util as u; print(u.find_spec('torch') is not None)";
    expect(runInEnv(isolated.result.binDir, probe).out).toBe("False");
    expect(
      runInEnv(shared.result.binDir, "import torch; print(torch.ones(2).sum().item())").out,
    ).toBe("2.0");
  });
});
