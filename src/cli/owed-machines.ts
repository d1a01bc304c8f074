// Before any command: machines a dead offload left owed are deleted now (one readdir when there are
// none, so commands stay as fast as before). What happened is said on stderr; a failure never blocks
// the command the user asked for.
import type { Output } from "./render.js";

export async function settleOwedMachinesFirst(out: Output): Promise<void> {
  // The question alone: the ledger's code loads only when there is something to settle.
  const { hasLedgerEntries } = await import("../providers/ledger-dir.js");
  if (!hasLedgerEntries()) return;
  const [{ settleOwedMachines }, { openProvider }] = await Promise.all([
    import("../providers/owed.js"),
    import("../providers/open.js"),
  ]);
  try {
    const report = await settleOwedMachines(
      (kind, regions, options) =>
        openProvider({ kind, regions, ...(options === undefined ? {} : { options }) }),
      {
        onWait: (what) => out.stderr.write(`waiting for ${what}\n`),
      },
    );
    for (const tag of report.deleted)
      out.stderr.write(`offload: deleted machine ${tag}, left behind by an offload that ended\n`);
    for (const run of report.runs)
      out.stderr.write(`offload: run ${run.id} recorded lost: ${run.why}\n`);
    for (const { tag, error } of report.owed)
      out.stderr.write(`offload: machine ${tag} is still owed a teardown: ${error}\n`);
    for (const problem of report.problems)
      out.stderr.write(`offload: could not settle owed machines in ${problem}\n`);
  } catch (error) {
    out.stderr.write(
      `offload: could not settle owed machines: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
}
