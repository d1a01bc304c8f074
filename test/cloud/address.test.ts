// The address picker on recorded real response shapes (test/fixtures/cloud/SOURCES.md).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  findAddresses,
  isPrivateAddress,
  pickAddress,
  pickPrivateAddress,
} from "../../src/providers/address.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/cloud", name), "utf8"));
const pick = (name: string, allowPrivate = false) =>
  pickAddress(findAddresses(fixture(name)), { allowPrivate });

describe("address picker", () => {
  it("takes Nova's floating address even in a private range (devstack), not the fixed one", () => {
    expect(findAddresses(fixture("nova-devstack-floating.json"))).toEqual({
      public: ["192.168.1.184"],
      private: ["10.0.5.181"],
    });
    expect(pick("nova-devstack-floating.json")).toBe("192.168.1.184");
    expect(pick("nova-servers-detail-gophercloud.json")).toBe("10.10.10.2");
  });

  it("takes accessIPv4 over a private fixed address, IPv4 before accessIPv6", () => {
    expect(pick("nova-api-sample-v2.47.json")).toBe("1.2.3.4");
  });

  it("takes a non-private fixed address when nothing is marked public (seed 002's shape)", () => {
    expect(pick("canopywave-seed-002.json")).toBe("1.2.3.4");
  });

  it("takes flat floating_ip over fixed_ip", () => {
    expect(pick("flat-floating-ip.json")).toBe("172.24.4.57");
  });

  it("gives nothing for a private-only machine unless private addresses are allowed", () => {
    expect(pick("nova-private-only.json")).toBeUndefined();
    expect(pick("nova-private-only.json", true)).toBe("10.4.0.13");
    expect(pick("gcp-instance-internal-only.json")).toBeUndefined();
    expect(pickPrivateAddress(findAddresses(fixture("gcp-instance-internal-only.json")))).toBe(
      "10.138.0.7",
    );
  });

  it("gives nothing while the machine has no address yet", () => {
    expect(pick("nova-building.json", true)).toBeUndefined();
    expect(pick("lambda-instance-booting.json", true)).toBeUndefined();
  });

  it("takes GCP's natIP and Lambda's ip", () => {
    expect(pick("gcp-instance-external.json")).toBe("107.167.187.66");
    expect(pick("lambda-instance-active.json")).toBe("198.51.100.2");
    expect(pickPrivateAddress(findAddresses(fixture("lambda-instance-active.json")))).toBe(
      "10.0.2.100",
    );
  });

  it("knows the private ranges", () => {
    for (const a of ["10.1.2.3", "172.16.0.1", "172.31.255.1", "192.168.0.1", "100.64.0.1"]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["172.32.0.1", "8.8.8.8", "100.128.0.1", "2001:db8::1"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
    expect(isPrivateAddress("fd00::1")).toBe(true);
  });
});

describe("offload machines address - (a response on stdin)", () => {
  const bin = join(import.meta.dirname, "../../bin/offload.js");
  const address = (input: string, ...flags: string[]) =>
    spawnSync(process.execPath, [bin, "machines", "address", ...flags, "-"], {
      input,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", OFFLOAD_STATE_DIR: join(tmpdir(), "offload-none") },
    });
  const text = (name: string) =>
    readFileSync(join(import.meta.dirname, "../fixtures/cloud", name), "utf8");

  it("reads Lambda's, GCP's and AWS's recorded answers from stdin", () => {
    expect(address(text("lambda-instance-active.json"))).toMatchObject({
      status: 0,
      stdout: "198.51.100.2\n",
    });
    expect(address(text("lambda-instance-active.json"), "--private").stdout).toBe("10.0.2.100\n");
    expect(address(text("gcp-instance-external.json")).stdout).toBe("107.167.187.66\n");
    expect(address(text("aws-describe-instances.json"))).toMatchObject({
      status: 0,
      stdout: "34.253.223.13\n",
    });
  });

  it("prints nothing and exits 1 for a machine still booting", () => {
    expect(address(text("lambda-instance-booting.json"))).toMatchObject({ status: 1, stdout: "" });
  });
});
