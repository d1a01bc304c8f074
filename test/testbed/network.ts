// Owns the bed's links: the bridge in the root namespace and each host's namespace + veth pair.

import { existsSync } from "node:fs";
import { runCheckedSync, runSync } from "./command.js";
import {
  gatewayAddress,
  hostAddress,
  hostName,
  parseHostIndex,
  type TestbedNames,
  vethName,
} from "./names.js";

export function ensureBridge(names: TestbedNames): void {
  const steps = linkExists(names.bridge) ? [] : [`link add ${names.bridge} type bridge`];
  steps.push(
    `addr replace ${gatewayAddress(names)}/24 dev ${names.bridge}`,
    `link set ${names.bridge} up`,
  );
  runBatch(steps);
}

/** Namespace with `lo` and `eth0` up; no default route, so nothing leaves the /24. */
export function createHostNetwork(names: TestbedNames, k: number): void {
  const ns = hostName(names, k);
  const veth = vethName(names, k);
  // `netns add` stays a call of its own: it switches the ip process into the new namespace.
  runCheckedSync(["ip", "netns", "add", ns]);
  runBatch([
    `link add ${veth} type veth peer name eth0 netns ${ns}`,
    `link set ${veth} master ${names.bridge} up`,
  ]);
  runBatch(
    [`addr add ${hostAddress(names, k)}/24 dev eth0`, "link set lo up", "link set eth0 up"],
    ns,
  );
}

/** One ip process for several steps: each spawn costs ~20 ms here, most of up()'s time. */
function runBatch(steps: readonly string[], ns?: string): void {
  const argv = ns === undefined ? ["ip", "-batch", "-"] : ["ip", "-n", ns, "-batch", "-"];
  runCheckedSync(argv, { input: `${steps.join("\n")}\n` });
}

/** Deletes namespace and veth if present; processes inside must be gone already. */
export function removeHostNetwork(names: TestbedNames, k: number): void {
  const ns = hostName(names, k);
  if (existsSync(netnsPath(ns))) runSync(["ip", "netns", "del", ns]);
  if (linkExists(vethName(names, k))) runSync(["ip", "link", "del", vethName(names, k)]);
}

export function netnsPath(ns: string): string {
  return `/run/netns/${ns}`;
}

/** Host numbers of this bed's namespaces that exist now. */
export function listHostNamespaces(names: TestbedNames): number[] {
  const out = runSync(["ip", "netns", "list"]).stdout;
  const found: number[] = [];
  for (const line of out.split("\n")) {
    const k = parseHostIndex(names, line.split(" ")[0] ?? "");
    if (k !== undefined) found.push(k);
  }
  return found.sort((a, b) => a - b);
}

/** Root-side veths of this bed still present (e.g. after a manual `ip netns del`). */
export function listVeths(names: TestbedNames): string[] {
  const out = runSync(["ip", "-o", "link", "show"]).stdout;
  const pattern = new RegExp(`^\\d+:\\s+(${escapeRegExp(names.vethPrefix)}f?\\d+)[@:]`);
  return out
    .split("\n")
    .map((line) => pattern.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

export function linkExists(name: string): boolean {
  return runSync(["ip", "link", "show", "dev", name]).code === 0;
}

/** The bridge a link is enslaved to, or undefined (no link, or on no bridge). */
export function linkMaster(name: string): string | undefined {
  const shown = runSync(["ip", "-o", "link", "show", "dev", name]);
  if (shown.code !== 0) return undefined;
  return / master (\S+) /.exec(shown.stdout)?.[1];
}

export function removeBridgeAndTables(names: TestbedNames): void {
  if (linkExists(names.bridge)) runSync(["ip", "link", "del", names.bridge]);
  runSync(["nft", "delete", "table", "inet", names.nftTable]);
  runSync(["nft", "delete", "table", "bridge", names.nftTable]);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
