import { describe, expect, it } from "vitest";
import { OffloadError } from "../../src/errors.js";
import { checkRequirementPath, hashEnvInputs } from "../../src/pyenv/index.js";

const REQS = [{ path: "requirements.txt", content: "torch==2.3\n" }];

describe("hashEnvInputs", () => {
  it("is stable for the same inputs and 16 hex digits long", () => {
    const key = hashEnvInputs(REQS, "python3", false);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(
      hashEnvInputs(
        [{ path: "requirements.txt", content: Buffer.from("torch==2.3\n") }],
        "python3",
        false,
      ),
    ).toBe(key);
  });

  it("changes with anything that changes the env's contents", () => {
    const key = hashEnvInputs(REQS, "python3", false);
    const others = [
      hashEnvInputs([{ path: "requirements.txt", content: "torch==2.4\n" }], "python3", false),
      hashEnvInputs(REQS, "python3.12", false),
      hashEnvInputs(REQS, "python3", true),
      hashEnvInputs([...REQS, { path: "dev.txt", content: "" }], "python3", false),
      // The same bytes split differently between name and content must not collide.
      hashEnvInputs([{ path: "requirements.txttorch==2.3\n", content: "" }], "python3", false),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  it("does not depend on the order the files are listed in", () => {
    const a = { path: "a.txt", content: "numpy\n" };
    const b = { path: "b.txt", content: "scipy\n" };
    expect(hashEnvInputs([a, b], "python3", false)).toBe(hashEnvInputs([b, a], "python3", false));
  });
});

describe("checkRequirementPath", () => {
  it("accepts files inside the project and refuses any that leave it", () => {
    expect(() => checkRequirementPath("requirements/train.txt")).not.toThrow();
    for (const bad of [
      "/etc/passwd",
      "../other/requirements.txt",
      "~/req.txt",
      "a/../../b.txt",
      "",
    ]) {
      expect(() => checkRequirementPath(bad)).toThrow(OffloadError);
    }
  });
});
