// PORT[:LOCAL] as `offload forward` reads it: a bad one is the user's mistake, said before any ssh.
import { expect, it } from "vitest";
import { isForwardSpec, parseForwardSpec } from "../../src/config/forward-spec.js";
import { OffloadError } from "../../src/errors.js";

it("reads the host's port and the local one, the same by default", () => {
  expect(parseForwardSpec("6006")).toEqual({ remote: 6006, local: 6006 });
  expect(parseForwardSpec("8080:18080")).toEqual({ remote: 8080, local: 18080 });
});

it("tells a run id from a port", () => {
  expect(isForwardSpec("20261201-175220-vpnm")).toBe(false);
  expect(isForwardSpec("8888:9999")).toBe(true);
});

it("refuses ports out of range or malformed, as a usage error with a hint", () => {
  for (const text of ["0", "65536", "80:0", "80:", ":80", "http"]) {
    const error = (() => {
      try {
        parseForwardSpec(text);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(OffloadError);
    expect((error as OffloadError).code).toBe("E_USAGE");
    expect((error as OffloadError).hint).toContain("8080:18080");
  }
});

it("offload.yaml's forward: takes ports in range only, numbers or PORT:LOCAL strings", async () => {
  const { settingsFileSchema } = await import("../../src/config/schema.js");
  expect(settingsFileSchema().safeParse({ forward: [6006, "8080:18080"] }).data).toEqual({
    forward: ["6006", "8080:18080"],
  });
  for (const bad of [[99999], ["80:70000"], ["tensorboard"]])
    expect(settingsFileSchema().safeParse({ forward: bad }).success).toBe(false);
});
