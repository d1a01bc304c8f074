// `offload env prune` as a library call: remove the host's cached Python envs unused for a while.

import { OffloadError } from "../errors.js";
import {
  buildEnvPruneScript,
  type PrunedEnv,
  type PruneOptions,
  parsePruneOutput,
} from "../pyenv/index.js";
import type { Transport } from "../transport/types.js";

export async function pruneEnvs(transport: Transport, options: PruneOptions): Promise<PrunedEnv[]> {
  const result = await transport.exec(buildEnvPruneScript(options));
  if (result.connectionFailed) throw transport.explain(result);
  if (result.code !== 0) {
    throw new OffloadError(
      "E_ENV",
      `Pruning the cached envs on ${transport.label} failed (status ${result.code}): ${result.stderr.trim().split("\n").slice(-3).join("\n")}`,
      { hint: "Check that ~/.offload/envs on the host is yours and writable." },
    );
  }
  return parsePruneOutput(result.stdout);
}
