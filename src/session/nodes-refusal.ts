// A node refused by the lock of another node of the same job, explained for what it is.
import { OffloadError } from "../errors.js";
import { RemoteDirLocked } from "./lock.js";

/**
 * A node refused by the lock of another node of this same job: two host names (ssh aliases, a name and
 * its address) reach one machine and one remote dir. Waiting or `--force` cannot help; each node needs a
 * remote dir of its own there.
 */
export function explainSiblingLock(
  error: unknown,
  rank: number,
  runIds: readonly string[],
  labels: readonly string[],
): unknown {
  if (!(error instanceof RemoteDirLocked)) return error;
  const sibling = runIds.indexOf(error.holderId);
  if (sibling < 0 || sibling === rank) return error;
  const [a, b] = [Math.min(rank, sibling), Math.max(rank, sibling)];
  return new OffloadError(
    "E_USAGE",
    `Nodes ${a} (${labels[a]}) and ${b} (${labels[b]}) are one machine: both reached the same remote dir, which node ${sibling} holds; nothing was started on any node.`,
    {
      hint: `Give each node a remote dir of its own (\`--host ${labels[a]}/a,${labels[b]}/b\`) or a machine of its own; waiting or \`--force\` would not help.`,
    },
  );
}
