// `offload env prune`: what went (or would go), a line each, and the disk it frees.
import type { PrunedEnv } from "../../pyenv/index.js";
import { bytes } from "../render.js";

export function formatPruned(
  pruned: readonly PrunedEnv[],
  options: { dryRun: boolean; olderThanDays: number },
): string {
  const verb = options.dryRun ? "would remove" : "removed";
  if (pruned.length === 0)
    return `no cached env is unused for more than ${options.olderThanDays} days or left unfinished`;
  const lines = pruned.map(
    (env) =>
      `${verb} ${env.dir} (${bytes(env.kib * 1024)}, ${env.reason === "unused" ? `unused for more than ${options.olderThanDays} days` : "a build that never finished"})`,
  );
  const total = pruned.reduce((sum, env) => sum + env.kib * 1024, 0);
  lines.push(`${verb} ${pruned.length} env${pruned.length === 1 ? "" : "s"}, ${bytes(total)}`);
  return lines.join("\n");
}
