// `offload logs [run] [-f] [--tail N]`: a run's log from this machine's copy and, for a run that has not
// ended here, from its host. Only reads: no follower mark, so any number of terminals can watch a run,
// and Ctrl+C only stops watching.
import { createRunContext, createStore } from "../../create.js";
import { OffloadError } from "../../errors.js";
import type { Reporter } from "../../events.js";
import { findProjectDir } from "../../project.js";
import { showLog } from "../../session/logs.js";
import { findNodeRecord } from "../../session/nodes-end.js";
import { captureInterrupts } from "../interrupts.js";
import { describeEvent, type Output } from "../render.js";
import { loadForRun, type TargetFlags } from "../settings.js";

export interface LogsFlags extends TargetFlags {
  follow?: boolean;
  tail?: string;
  /** `--node K`: the log of node K of a job across nodes. */
  node?: string;
}

function parseTail(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text))
    throw new OffloadError("E_USAGE", `--tail takes a number of lines, not ${text}.`, {
      hint: "For example `offload logs --tail 20`.",
    });
  return Number(text);
}

function parseNode(text: string): number {
  if (!/^[0-9]+$/.test(text))
    throw new OffloadError("E_USAGE", `--node takes a node number, not ${text}.`, {
      hint: "For example `offload logs --node 1` (nodes count from 0).",
    });
  return Number(text);
}

export async function logsAction(
  out: Output,
  run: string | undefined,
  flags: LogsFlags,
): Promise<number> {
  const tailLines = parseTail(flags.tail);
  const store = createStore(findProjectDir(process.cwd()));
  const named = await store.load(await store.resolveId(run));
  const record =
    flags.node === undefined ? named : await findNodeRecord(store, named, parseNode(flags.node));
  const interrupts = captureInterrupts("leave", out.closed);
  // Reconnect notices on stderr; the log itself goes to stdout byte for byte.
  const report: Reporter = (event) => {
    if (event.type !== "reconnecting" && event.type !== "reconnected") return;
    out.stderr.write(`› ${describeEvent(event)}\n`);
  };
  try {
    await showLog({
      store,
      record,
      host: async () => {
        const { projectDir, settings } = await loadForRun(record.id, flags);
        return createRunContext({ projectDir, settings, store });
      },
      tailLines,
      follow: flags.follow ?? false,
      write: (chunk) => {
        if (!out.closed?.aborted) out.stdout.write(chunk);
      },
      report,
      signal: interrupts.controls.detach,
    });
  } finally {
    interrupts.release();
  }
  return 0;
}
