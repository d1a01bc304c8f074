// Owns the faults that work on this kernel: cut link, drop host (nftables), slow link, kill sessions.
// Each acts only on a fault host this process leased (leaseFaultHost): the calm hosts are shared by
// every test file running at once, and a fault there failed other files' tests.

import { run, runChecked } from "./command.js";
import { holdsFaultHost } from "./fault-lease.js";
import { type BedHost, listenerPid, resolveHost } from "./host.js";
import { execInHost, processesInHost, sessionPids } from "./inspect.js";
import { defaultNames, type TestbedNames } from "./names.js";
import { killPid } from "./procfs.js";
import { TestbedError } from "./types.js";

/** resolveHost, refusing unless this process holds the host's fault lease. */
function resolveLeased(names: TestbedNames, host: string, feature: string): BedHost {
  const resolved = resolveHost(names, host, feature);
  if (!holdsFaultHost(names.stateDir, resolved.name)) {
    throw new TestbedError(
      `${feature}: ${host} is not a fault host leased by this process: faults go only on a host from leaseFaultHost() or useFaultHost() (test/testbed/index.ts), never on a calm host other files use`,
    );
  }
  return resolved;
}

/** Connections hang (TCP retransmits) but host processes keep running. */
export async function cutLink(host: string, names: TestbedNames = defaultNames()): Promise<void> {
  const { veth } = resolveLeased(names, host, "cutLink");
  await runChecked(["ip", "link", "set", veth, "down"]);
}

/** The first new connection after a heal can take ~1 s more: the neighbour entry went stale. */
export async function healLink(host: string, names: TestbedNames = defaultNames()): Promise<void> {
  const { veth } = resolveLeased(names, host, "healLink");
  await runChecked(["ip", "link", "set", veth, "up"]);
}

/**
 * The host vanishes: packets to and from it are dropped, host<->host too (bridged traffic never
 * crosses inet input/output, hence the bridge table). Idempotent.
 */
export async function dropHost(host: string, names: TestbedNames = defaultNames()): Promise<void> {
  const { name, address } = resolveLeased(names, host, "dropHost");
  await removeDrops(names, name);
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
  await removeDrops(names, resolveLeased(names, host, "undropHost").name);
}

async function removeDrops(names: TestbedNames, name: string): Promise<void> {
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
  const { veth } = resolveLeased(names, host, "slowLink");
  const tbf = ["tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"];
  await runChecked(["tc", "qdisc", "replace", "dev", veth, "root", ...tbf]);
}

export async function unslowLink(
  host: string,
  names: TestbedNames = defaultNames(),
): Promise<void> {
  const { veth } = resolveLeased(names, host, "unslowLink");
  await run(["tc", "qdisc", "del", "dev", veth, "root"]);
}

/**
 * Bandwidth from the host capped (tbf on its own eth0: what it sends, so downloads and its uploads to
 * the bridge); slowLink caps the other way. resetFaultHost lifts both.
 */
export async function slowHostSending(
  host: string,
  rate: string,
  { burst = "32kbit" }: { burst?: string } = {},
  names: TestbedNames = defaultNames(),
): Promise<void> {
  resolveLeased(names, host, "slowHostSending");
  const tbf = ["tbf", "rate", rate, "burst", burst, "latency", "400ms"];
  const capped = await execInHost(
    host,
    ["tc", "qdisc", "replace", "dev", "eth0", "root", ...tbf],
    {},
    names,
  );
  if (capped.code !== 0)
    throw new TestbedError(
      `slowHostSending: tc on ${host} failed (${capped.code}): ${capped.stderr}`,
    );
}

export async function unslowHostSending(
  host: string,
  names: TestbedNames = defaultNames(),
): Promise<void> {
  resolveLeased(names, host, "unslowHostSending");
  await execInHost(host, ["tc", "qdisc", "del", "dev", "eth0", "root"], {}, names);
}

/** Kills the per-connection sshd processes (live ssh sessions die), not the listener. */
export async function killSessions(
  host: string,
  signal: NodeJS.Signals = "SIGKILL",
  names: TestbedNames = defaultNames(),
): Promise<number[]> {
  resolveLeased(names, host, "killSessions");
  const pids = sessionPids(host, names);
  for (const pid of pids) killPid(pid, signal);
  return pids;
}

/**
 * Puts a fault host back as new, whoever faulted it: link up, no drop, no rate cap either side, and
 * no process left but its sshd. Run when a lease is taken and when it is given back.
 */
export async function resetFaultHost(
  host: string,
  names: TestbedNames = defaultNames(),
): Promise<void> {
  const resolved = resolveHost(names, host, "resetFaultHost");
  await runChecked(["ip", "link", "set", resolved.veth, "up"]);
  await removeDrops(names, resolved.name);
  await run(["tc", "qdisc", "del", "dev", resolved.veth, "root"]);
  await execInHost(host, ["tc", "qdisc", "del", "dev", "eth0", "root"], {}, names);
  await killAllButListener(host, listenerPid(resolved), names);
}

/** Until none is left: an sshd may fork a session while we list (as in down.ts). */
async function killAllButListener(host: string, listener: number, names: TestbedNames) {
  for (let round = 0; round < 200; round++) {
    const left = processesInHost(host, names).filter((proc) => proc.pid !== listener);
    if (left.length === 0) return;
    for (const proc of left) killPid(proc.pid);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new TestbedError(`${host}: processes left after 5 s of SIGKILL (see processesInHost)`);
}
