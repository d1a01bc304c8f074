// Owns the faults that work on this kernel: cut link, drop host (nftables), slow link, kill sessions.

import { run, runChecked } from "./command.js";
import { resolveHost } from "./host.js";
import { sessionPids } from "./inspect.js";
import { defaultNames, type TestbedNames } from "./names.js";
import { killPid } from "./procfs.js";

/** Connections hang (TCP retransmits) but host processes keep running. */
export async function cutLink(host: string, names: TestbedNames = defaultNames()): Promise<void> {
  const { veth } = resolveHost(names, host, "cutLink");
  await runChecked(["ip", "link", "set", veth, "down"]);
}

/** The first new connection after a heal can take ~1 s more: the neighbour entry went stale. */
export async function healLink(host: string, names: TestbedNames = defaultNames()): Promise<void> {
  const { veth } = resolveHost(names, host, "healLink");
  await runChecked(["ip", "link", "set", veth, "up"]);
}

/**
 * The host vanishes: packets to and from it are dropped, host<->host too (bridged traffic never
 * crosses inet input/output, hence the bridge table). Idempotent.
 */
export async function dropHost(host: string, names: TestbedNames = defaultNames()): Promise<void> {
  const { name, address } = resolveHost(names, host, "dropHost");
  await undropHost(host, names);
  const t = names.nftTable;
  const tag = `comment "${name}"`;
  const script = [
    `add table inet ${t}`,
    `add chain inet ${t} tb_out { type filter hook output priority 0; policy accept; }`,
    `add chain inet ${t} tb_in { type filter hook input priority 0; policy accept; }`,
    `add rule inet ${t} tb_out ip daddr ${address} drop ${tag}`,
    `add rule inet ${t} tb_in ip saddr ${address} drop ${tag}`,
    `add table bridge ${t}`,
    // `fwd` is a reserved word in nft, hence tb_fwd.
    `add chain bridge ${t} tb_fwd { type filter hook forward priority 0; policy accept; }`,
    `add rule bridge ${t} tb_fwd ip daddr ${address} drop ${tag}`,
    `add rule bridge ${t} tb_fwd ip saddr ${address} drop ${tag}`,
  ].join("\n");
  await runChecked(["nft", "-f", "-"], { input: `${script}\n` });
}

/** Deletes this host's drop rules by handle; other hosts' drops stay. */
export async function undropHost(
  host: string,
  names: TestbedNames = defaultNames(),
): Promise<void> {
  const { name } = resolveHost(names, host, "undropHost");
  const chains = { inet: ["tb_out", "tb_in"], bridge: ["tb_fwd"] } as const;
  const deletes: string[] = [];
  for (const family of ["inet", "bridge"] as const) {
    const listing = await run(["nft", "-a", "list", "table", family, names.nftTable]);
    for (const chain of chains[family]) {
      for (const handle of ruleHandles(listing.stdout, chain, name)) {
        deletes.push(`delete rule ${family} ${names.nftTable} ${chain} handle ${handle}`);
      }
    }
  }
  if (deletes.length > 0)
    await runChecked(["nft", "-f", "-"], { input: `${deletes.join("\n")}\n` });
}

/** Handles of rules tagged `comment "<host>"` inside `chain` of an `nft -a list table` listing. */
export function ruleHandles(listing: string, chain: string, host: string): number[] {
  const handles: number[] = [];
  let inChain = false;
  for (const line of listing.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("chain ")) inChain = trimmed.split(/\s+/)[1] === chain;
    const match = /# handle (\d+)$/.exec(trimmed);
    if (inChain && match?.[1] !== undefined && trimmed.includes(`comment "${host}"`)) {
      handles.push(Number(match[1]));
    }
  }
  return handles;
}

/** Bandwidth towards the host capped with tbf (netem is not in this kernel). */
export async function slowLink(
  host: string,
  rate = "2mbit",
  names: TestbedNames = defaultNames(),
): Promise<void> {
  const { veth } = resolveHost(names, host, "slowLink");
  const tbf = ["tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"];
  await runChecked(["tc", "qdisc", "replace", "dev", veth, "root", ...tbf]);
}

export async function unslowLink(
  host: string,
  names: TestbedNames = defaultNames(),
): Promise<void> {
  const { veth } = resolveHost(names, host, "unslowLink");
  await runChecked(["tc", "qdisc", "del", "dev", veth, "root"]).catch(() => "");
}

/** Kills the per-connection sshd processes (live ssh sessions die), not the listener. */
export async function killSessions(
  host: string,
  signal: NodeJS.Signals = "SIGKILL",
  names: TestbedNames = defaultNames(),
): Promise<number[]> {
  const pids = sessionPids(host, names);
  for (const pid of pids) killPid(pid, signal);
  return pids;
}
