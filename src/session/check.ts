// `offload check` as a library call: connect and probe the host in one round trip.
import type { HostFacts } from "../host/probe.js";
import type { Transport } from "../transport/types.js";
import { probeHost } from "./host-facts.js";

export interface CheckResult {
  target: string;
  connectMs: number;
  facts: HostFacts;
}

export async function checkHost(transport: Transport, remoteDir: string): Promise<CheckResult> {
  const started = performance.now();
  await transport.connect();
  const probed = await probeHost(transport, remoteDir);
  if ("failed" in probed) throw transport.explain(probed.failed);
  return {
    target: transport.label,
    connectMs: Math.round(performance.now() - started),
    facts: probed.facts,
  };
}
