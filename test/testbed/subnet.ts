// Owns the refusal to start when the bed's /24 is already used by something else on this machine.

import { runSync } from "./command.js";

export interface SubnetConflict {
  /** The address or route that overlaps, as `ip` printed it. */
  what: string;
  dev: string;
}

/**
 * Addresses and routes overlapping `${subnet}.0/24` on any device but the bed's own bridge.
 * Pure: takes `ip -o -4 addr show` and `ip -4 route show table all` output.
 */
export function findSubnetConflicts(
  addrOutput: string,
  routeOutput: string,
  subnet: string,
  bridge: string,
): SubnetConflict[] {
  const ours = parseCidr(`${subnet}.0/24`);
  if (ours === undefined) throw new Error(`bad subnet ${subnet}`);
  const conflicts: SubnetConflict[] = [];
  for (const line of addrOutput.split("\n")) {
    const match = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line.trim());
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const cidr = parseCidr(match[2]);
    if (cidr !== undefined && match[1] !== bridge && overlaps(cidr, ours)) {
      conflicts.push({ what: match[2], dev: match[1] });
    }
  }
  for (const line of routeOutput.split("\n")) {
    const tokens = line.trim().split(/\s+/);
    const dest = ROUTE_TYPES.has(tokens[0] ?? "") ? tokens[1] : tokens[0];
    const dev = tokens[tokens.indexOf("dev") + 1] ?? "";
    if (dest === undefined || dest === "default" || !tokens.includes("dev")) continue;
    const cidr = parseCidr(dest.includes("/") ? dest : `${dest}/32`);
    if (cidr !== undefined && cidr.bits > 0 && dev !== bridge && overlaps(cidr, ours)) {
      conflicts.push({ what: line.trim(), dev });
    }
  }
  return conflicts;
}

/** Runs `ip` and returns what overlaps; an empty list means the bed may take the subnet. */
export function checkSubnetFree(subnet: string, bridge: string): SubnetConflict[] {
  const addrs = runSync(["ip", "-o", "-4", "addr", "show"]).stdout;
  const routes = runSync(["ip", "-4", "route", "show", "table", "all"]).stdout;
  return findSubnetConflicts(addrs, routes, subnet, bridge);
}

const ROUTE_TYPES = new Set([
  "unicast",
  "local",
  "broadcast",
  "multicast",
  "blackhole",
  "unreachable",
  "prohibit",
  "throw",
  "nat",
  "anycast",
]);

interface Cidr {
  base: number;
  bits: number;
}

function parseCidr(text: string): Cidr | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base: value - (value % 2 ** (32 - bits)), bits };
}

/** Two prefixes overlap when the shorter one contains the other's base. */
function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const size = 2 ** (32 - bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}
