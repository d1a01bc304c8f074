// `offload env prune`: what went (or would go), a line each, and the disk it frees.
import { createTransport } from "../../create.js";
import { OffloadError } from "../../errors.js";
import type { PrunedEnv } from "../../pyenv/index.js";
import { pruneEnvs } from "../../session/env-prune.js";
import { bytes, type Output } from "../render.js";
import { load, type TargetFlags } from "../settings.js";

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

export async function pruneAction(
  out: Output,
  flags: TargetFlags & { olderThan: string; dryRun?: boolean },
): Promise<number> {
  const olderThanDays = Number(flags.olderThan);
  if (!Number.isInteger(olderThanDays) || olderThanDays < 0) {
    throw new OffloadError(
      "E_USAGE",
      `--older-than takes a whole number of days, not ${flags.olderThan}.`,
      {
        hint: "For example `offload env prune --host gpu-box --older-than 14`.",
      },
    );
  }
  const { settings } = await load(flags);
  const options = { olderThanDays, dryRun: flags.dryRun ?? false };
  const pruned = await pruneEnvs(createTransport(settings), options);
  if (flags.json) out.stdout.write(pruned.map((env) => `${JSON.stringify(env)}\n`).join(""));
  else out.stdout.write(`${formatPruned(pruned, options)}\n`);
  return 0;
}
