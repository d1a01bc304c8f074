// `offload check` as a library call: connect and probe the host in one round trip.
import { buildProbeScript, type HostFacts, parseProbe } from "../host/probe.js";
import type { Transport } from "../transport/types.js";

export interface CheckResult {
  target: string;
  connectMs: number;
  facts: HostFacts;
}

export async function checkHost(transport: Transport, remoteDir: string): Promise<CheckResult> {
  const started = performance.now();
  await transport.connect();
  const result = await transport.exec(buildProbeScript(remoteDir));
  if (result.connectionFailed) throw transport.explain(result);
  return {
    target: transport.label,
    connectMs: Math.round(performance.now() - started),
    facts: parseProbe(result.stdout),
  };
}
