// Finds a machine's addresses in any cloud's response shape and picks the one to reach it by (pure).
import type { MachineAddresses } from "./types.js";

/** Keys whose value the cloud itself calls public, whatever the range (devstack floats 172.24.4.x). */
const PUBLIC_KEYS = [
  "floating_ip",
  "public_ip",
  "publicIp",
  "public_ipv4",
  "publicIpAddress",
  // AWS CLI (describe-instances), vast.ai.
  "PublicIpAddress",
  "public_ipaddr",
  "external_ip",
  "accessIPv4",
  "accessIPv6",
  // Lambda Cloud's and CanopyWave's `ip` is the public address (seed 002 reads it first).
  "ip",
] as const;
const PRIVATE_KEYS = [
  "private_ip",
  "privateIp",
  "fixed_ip",
  "privateIpAddress",
  "PrivateIpAddress",
  "internal_ip",
];
/** Envelopes clouds wrap one machine in: Nova `server`, Lambda `data`, others `instance`. */
const ENVELOPES = ["server", "data", "instance"] as const;

/** Public and private addresses found in `response`, in the order the cloud gave them, no repeats. */
export function findAddresses(response: unknown): MachineAddresses {
  const found: MachineAddresses = { public: [], private: [] };
  collect(unwrap(response), found);
  return { public: unique(found.public), private: unique(found.private) };
}

export interface PickOptions {
  /** The target reaches machines on their private network (same network, jump host, IAP tunnel). */
  allowPrivate?: boolean;
}

/**
 * The address offload connects to: a public one first (IPv4 before IPv6); else a fixed address that is
 * not in a private range; else, only when allowed, a private one. Undefined: none yet.
 */
export function pickAddress(
  addresses: MachineAddresses,
  options: PickOptions = {},
): string | undefined {
  const routable = addresses.private.filter((a) => !isPrivateAddress(a));
  const tiers = [addresses.public, routable];
  if (options.allowPrivate === true) tiers.push(addresses.private);
  for (const tier of tiers) {
    const pick = preferIpv4(tier);
    if (pick !== undefined) return pick;
  }
  return undefined;
}

/** The private address offload would use where the target reaches machines privately. */
export function pickPrivateAddress(addresses: MachineAddresses): string | undefined {
  return preferIpv4(addresses.private.filter(isPrivateAddress)) ?? preferIpv4(addresses.private);
}

function unwrap(response: unknown): Record<string, unknown> {
  let value = asRecord(response) ?? {};
  for (let depth = 0; depth < 3; depth++) {
    const inner = ENVELOPES.map((key) => asRecord(value[key])).find((v) => v !== undefined);
    if (inner === undefined) break;
    value = inner;
  }
  return value;
}

function collect(machine: Record<string, unknown>, found: MachineAddresses): void {
  for (const key of PUBLIC_KEYS) pushIp(found.public, machine[key]);
  for (const key of PRIVATE_KEYS) pushIp(found.private, machine[key]);
  collectNova(machine.addresses, found);
  collectGcp(machine.networkInterfaces, found);
}

/** Nova: `{ net: [{ addr, version, "OS-EXT-IPS:type": "fixed" | "floating" }] }`; also a flat list. */
function collectNova(addresses: unknown, found: MachineAddresses): void {
  const record = asRecord(addresses);
  const lists = Array.isArray(addresses) ? [addresses] : Object.values(record ?? {});
  for (const list of lists) {
    for (const entry of Array.isArray(list) ? list : [list]) {
      const item = asRecord(entry);
      if (item === undefined) {
        pushIp(found.private, entry);
        continue;
      }
      const address = item.addr ?? item.address ?? item.ip;
      const type = item["OS-EXT-IPS:type"] ?? item.type;
      pushIp(type === "floating" || type === "public" ? found.public : found.private, address);
    }
  }
}

/** GCP: `networkInterfaces[].networkIP`, `.accessConfigs[].natIP`, `.ipv6AccessConfigs[].externalIpv6`. */
function collectGcp(interfaces: unknown, found: MachineAddresses): void {
  if (!Array.isArray(interfaces)) return;
  for (const entry of interfaces) {
    const nic = asRecord(entry);
    if (nic === undefined) continue;
    for (const config of asArray(nic.accessConfigs)) pushIp(found.public, asRecord(config)?.natIP);
    for (const config of asArray(nic.ipv6AccessConfigs)) {
      pushIp(found.public, asRecord(config)?.externalIpv6);
    }
    pushIp(found.private, nic.networkIP);
  }
}

function pushIp(into: string[], value: unknown): void {
  if (typeof value === "string" && isIpAddress(value.trim())) into.push(value.trim());
}

export function isIpAddress(text: string): boolean {
  return parseIpv4(text) !== undefined || isIpv6(text);
}

/** RFC 1918, CGNAT (100.64/10), link-local, loopback; IPv6 ULA (fc00::/7), link-local, loopback. */
export function isPrivateAddress(address: string): boolean {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) {
    const [a, b] = v4;
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254)
    );
  }
  const lower = address.toLowerCase();
  return lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
}

function parseIpv4(text: string): [number, number, number, number] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets as [number, number, number, number];
}

function isIpv6(text: string): boolean {
  return /^[0-9a-fA-F:]+$/.test(text) && text.includes(":") && text.split("::").length <= 2;
}

function preferIpv4(addresses: readonly string[]): string | undefined {
  return addresses.find((a) => parseIpv4(a) !== undefined) ?? addresses[0];
}

function unique(addresses: string[]): string[] {
  return [...new Set(addresses)];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
