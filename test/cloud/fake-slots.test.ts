// The fake cloud's machine slots, shared by the fake clouds of test files running in parallel: a slot
// another fake has just made (its owner file not written yet) is not taken for a dead one's.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { CloudHosts, cloudNames } from "./fake/hosts.js";

let stateDir: string | undefined;
afterEach(() => {
  if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true });
  stateDir = undefined;
});

/** Slots in a temp dir, under names no namespace, link or bridge has: removing one touches nothing. */
function tempSlots(): CloudHosts {
  stateDir = mkdtempSync(join(tmpdir(), "offload-slots-"));
  return new CloudHosts({
    ...cloudNames(),
    stateDir,
    bridge: "offload-zbr",
    hostPrefix: "offload-zslot",
    vethPrefix: "veth-zs",
  });
}

it("leaves a slot another fake cloud is making (no owner yet) to it, and takes the next", () => {
  const hosts = tempSlots();
  const dir = stateDir ?? "";
  mkdirSync(join(dir, "slots", "100"), { recursive: true });
  expect(hosts.allocate()).toBe(101);
  expect(existsSync(join(dir, "slots", "100"))).toBe(true);
  expect(existsSync(join(dir, "slots", "100", "owner"))).toBe(false);
  expect(readFileSync(join(dir, "slots", "101", "owner"), "utf8")).toBe(String(process.pid));
});

it("takes over the slot of a fake cloud whose process is gone", () => {
  const hosts = tempSlots();
  const dir = stateDir ?? "";
  mkdirSync(join(dir, "slots", "100"), { recursive: true });
  // No process has this pid: above the kernel's limit (pid_max is at most 2^22).
  writeFileSync(join(dir, "slots", "100", "owner"), "4194305");
  expect(hosts.allocate()).toBe(100);
  expect(readFileSync(join(dir, "slots", "100", "owner"), "utf8")).toBe(String(process.pid));
});
