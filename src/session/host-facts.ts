// The host's facts for a run record (and the GPU pick): probed, or read back from a recent probe of the
// same destination, since the probe is the costliest step of a warm run (it starts Python, rsync and
// nvidia-smi on the host: ~100 ms measured on the test bed, as long as the whole rsync no-op).
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { GpuInfo } from "../host/gpus.js";
import { buildProbeScript, type HostFacts, parseProbe } from "../host/probe.js";
import type { ExecResult, Transport } from "../transport/types.js";

/** How long probed facts are reused. OS, CPUs, Python and GPU models do not change within minutes. */
export const FACTS_TTL_MS = 10 * 60 * 1000;

/**
 * What the host has (CPUs, memory, free disk, Python, GPUs), in one round trip; where the connection
 * failed, the exec result, for the caller to explain (`offload check`) or do without (a run).
 */
export async function probeHost(
  transport: Transport,
  remoteDir: string,
): Promise<{ facts: HostFacts } | { failed: ExecResult }> {
  const result = await transport.exec(buildProbeScript(remoteDir));
  if (result.connectionFailed) return { failed: result };
  return { facts: parseProbe(result.stdout) };
}

/** The cache key of a host's facts whatever the remote dir (no remote dir is ""). */
const ANY_DIR = "";

/**
 * Facts from a probe younger than FACTS_TTL_MS, else a new probe (kept for the next run). `fresh` always
 * probes: a GPU pick needs the GPUs' memory and utilisation of now. With `bootId` (the prepare read it),
 * a probe of another remote dir on the same host since its boot serves too: the host is the same, only
 * the free disk was measured where that dir is (its `diskDir` says where). A boot id that differs from
 * the cached one (a reboot, or another machine behind the same name) probes again.
 */
export async function readHostFacts(
  transport: Transport,
  remoteDir: string,
  options: { fresh: boolean; now?: number; bootId?: string | undefined },
): Promise<HostFacts | undefined> {
  const path = transport.factsCachePath?.(remoteDir);
  const bootId = options.bootId || undefined;
  const hostPath = bootId === undefined ? undefined : transport.factsCachePath?.(ANY_DIR);
  const now = options.now ?? Date.now();
  if (!options.fresh) {
    const cached =
      (path === undefined ? undefined : readCachedFacts(path, now)) ??
      (hostPath === undefined ? undefined : readCachedFacts(hostPath, now, bootId));
    if (cached) return cached;
  }
  const probed = await probeHost(transport, remoteDir);
  if ("failed" in probed) return undefined;
  const facts = { ...probed.facts, probedAt: new Date().toISOString() };
  if (path !== undefined) writeCachedFacts(path, facts);
  if (hostPath !== undefined && bootId !== undefined)
    writeCachedFacts(hostPath, { ...facts, bootId });
  return facts;
}

/** Cached facts, when young enough and (with `bootId`) probed since that boot; without the boot id. */
function readCachedFacts(path: string, now: number, bootId?: string): HostFacts | undefined {
  try {
    const { bootId: probedIn, ...facts } = JSON.parse(readFileSync(path, "utf8")) as HostFacts & {
      bootId?: string;
    };
    const age = now - Date.parse(facts.probedAt ?? "");
    if (bootId !== undefined && probedIn !== bootId) return undefined;
    if (isHostFacts(facts) && age >= 0 && age < FACTS_TTL_MS) return facts;
  } catch {
    // absent or unreadable: probe again
  }
  return undefined;
}

const OPTIONAL_NUMBERS = ["cpus", "memTotalBytes", "diskFreeBytes"] as const;
const OPTIONAL_STRINGS = ["diskDir", "rsync", "shell", "gpuError", "probedAt"] as const;

/**
 * Whether a kept file has the facts' shape, to the field: another version of offload, or a damaged
 * file, may keep something else, which would throw far from here (a GPU `null`: a TypeError in the
 * GPU pick). Anything else probes again.
 */
function isHostFacts(value: unknown): value is HostFacts {
  if (typeof value !== "object" || value === null) return false;
  const facts = value as Record<string, unknown>;
  const optional = (key: string, type: string) =>
    facts[key] === undefined || typeof facts[key] === type;
  return (
    ["os", "kernel", "arch", "hostname"].every((key) => typeof facts[key] === "string") &&
    typeof facts.tar === "boolean" &&
    typeof facts.setsid === "boolean" &&
    OPTIONAL_NUMBERS.every((key) => optional(key, "number")) &&
    OPTIONAL_STRINGS.every((key) => optional(key, "string")) &&
    (facts.python === undefined || isPython(facts.python)) &&
    Array.isArray(facts.gpus) &&
    facts.gpus.every(isGpu)
  );
}

function isPython(value: unknown): boolean {
  const python = value as Record<string, unknown> | null;
  return typeof python?.path === "string" && typeof python.version === "string";
}

function isGpu(value: unknown): value is GpuInfo {
  if (typeof value !== "object" || value === null) return false;
  const gpu = value as Record<string, unknown>;
  const optional = (key: string) => gpu[key] === undefined || typeof gpu[key] === "number";
  return (
    typeof gpu.index === "number" &&
    typeof gpu.uuid === "string" &&
    typeof gpu.name === "string" &&
    typeof gpu.driverVersion === "string" &&
    ["memoryTotalMiB", "memoryUsedMiB", "utilizationPercent"].every(optional)
  );
}

/** Best effort: a cache that cannot be written only costs the next run a probe. */
function writeCachedFacts(path: string, facts: HostFacts & { bootId?: string }): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(facts), { mode: 0o600 });
    renameSync(temp, path);
  } catch {
    // ignore
  }
}
