// Run ids from a run record reach remote scripts: one that offload did not make is refused here, with an
// error a person can act on, before any script is built.
import { OffloadError } from "../errors.js";
import { RUN_ID_PATTERN } from "../remote/layout.js";

export function requireRunId(id: string): string {
  if (RUN_ID_PATTERN.test(id)) return id;
  throw new OffloadError("E_RUN_NOT_FOUND", `${JSON.stringify(id)} is not a run id.`, {
    hint: "Run ids look like 20260101-120000-ab12; a run.json that names another id was edited or damaged. `offload ps` lists the runs.",
  });
}
