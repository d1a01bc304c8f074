// `offload attach RUN` where RUN is a node of a job across nodes: every node's run followed again,
// lines prefixed `[nK]` as `offload run --host a,b,c` shows them, the first node to fail stopping the
// others. Watching otherwise: Ctrl+C leaves the job going (`offload stop RUN` stops every node).
import { createRunContext, createStore } from "../../create.js";
import { EXIT_CODES } from "../../errors.js";
import { findProjectDir } from "../../project.js";
import type { RunRecord } from "../../runs/record.js";
import { describeNodesEnd } from "../../session/nodes.js";
import { attachNodes } from "../../session/nodes-attach.js";
import type { RunSet } from "../../session/run-set.js";
import { captureInterrupts } from "../interrupts.js";
import type { Output } from "../render.js";
import { loadForRun, type TargetFlags } from "../settings.js";
import type { FollowFlags } from "./run-follow.js";
import { createNodeReporters } from "./run-nodes.js";

function exitCodeOf(record: RunRecord): number {
  if (record.status === "running") return 0;
  if (record.exitCode === 0 && record.error?.code === "E_DOWNLOAD") return EXIT_CODES.download;
  return record.exitCode ?? EXIT_CODES.lost;
}

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
  const interrupts = captureInterrupts("leave", out.closed);
  const { human, base, prefixed } = createNodeReporters(out, flags, set.records.length);
  try {
    const { records, decisive } = await attachNodes({
      nodes,
      records: set.records,
      reportFor: (node) => prefixed[node]?.report ?? base,
      controls: interrupts.controls,
    });
    for (const p of prefixed) p.flush();
    if (interrupts.controls.detach?.aborted) return 0;
    base(describeNodesEnd({ records, decisive }));
    return exitCodeOf(decisive);
  } finally {
    for (const p of prefixed) p.flush();
    human?.close();
    interrupts.release();
  }
}
