// `offload attach RUN` where RUN is a node of a job across nodes: every node's run followed again,
// lines prefixed `[nK]` as `offload run --host a,b,c` shows them, the first node to fail stopping the
// others. Watching otherwise: Ctrl+C leaves the job going (`offload stop RUN` stops every node).
import { createRunContext, createStore } from "../../create.js";
import { findProjectDir } from "../../project.js";
import { attachNodes } from "../../session/nodes-attach.js";
import type { RunSet } from "../../session/run-set.js";
import type { Output } from "../render.js";
import { loadForRun, type TargetFlags } from "../settings.js";
import type { FollowFlags } from "./run-follow.js";
import { followNodes } from "./run-nodes.js";

export async function attachNodesCommand(
  out: Output,
  set: Extract<RunSet, { kind: "nodes" }>,
  flags: TargetFlags & FollowFlags,
): Promise<number> {
  const projectDir = findProjectDir(process.cwd());
  const store = createStore(projectDir);
  // Each node on its own host, as its record says: a --host would send them all to one.
  const { host: _ignored, ...perRun } = flags;
  const nodes = await Promise.all(
    set.records.map(async (record) => {
      const { settings } = await loadForRun(record.id, perRun);
      return createRunContext({ projectDir, settings, store });
    }),
  );
  // Leaving (Ctrl+C) says nothing of an end: the job goes on.
  return followNodes(
    out,
    flags,
    set.records.length,
    "leave",
    (reportFor, controls) => attachNodes({ nodes, records: set.records, reportFor, controls }),
    (_ended, controls) => (controls.detach?.aborted ? 0 : undefined),
  );
}
