// `offload run --host a,b,c` (or `nodes: [a, b, c]`): one job across several hosts. Each node's log
// lines are shown prefixed `[n0]`, `[n1]`…; progress comes from node 0; the exit code is the first
// failing node's.
import { readFileSync } from "node:fs";
import type { EffectiveSettings } from "../../config/settings.js";
import type { RunControls } from "../../context.js";
import { createRunContext, createStore } from "../../create.js";
import { EXIT_CODES, OffloadError } from "../../errors.js";
import type { Reporter, RunEvent } from "../../events.js";
import { resolveSecrets } from "../../remote/secrets.js";
import { checkRunName, parseRunTags } from "../../runs/labels.js";
import type { RunRecord } from "../../runs/record.js";
import { type NodeTarget, runOnNodes } from "../../session/nodes.js";
import { describeNodesEnd, type NodesResult } from "../../session/nodes-end.js";
import { captureInterrupts } from "../interrupts.js";
import { createJsonReporter } from "../json-lines.js";
import { createHumanReporter, describeEvent, type HumanReporter, type Output } from "../render.js";
import type { RunFlags } from "./run.js";

/** `a,b,c` → the hosts of a job across nodes; one host (no comma) → undefined. */
export function splitNodeHosts(host: string | undefined): string[] | undefined {
  if (host === undefined || !host.includes(",")) return undefined;
  const hosts = host.split(",").map((h) => h.trim());
  if (hosts.some((h) => h === ""))
    throw new OffloadError("E_USAGE", `--host ${host} names an empty host.`, {
      hint: "Give the nodes as `--host a,b,c`, with no empty entry.",
    });
  return hosts;
}

/**
 * `nodes: N` on a cloud target: N nodes of the same target, each a machine made for the job. The
 * budget is the job's: each machine gets its share, so N machines never spend N budgets.
 */
export function cloudNodeSettings(settings: EffectiveSettings, count: number): EffectiveSettings[] {
  const { cloud } = settings;
  if (cloud === undefined)
    throw new OffloadError(
      "E_CONFIG_VALUE",
      `\`nodes: ${count}\` makes ${count} machines, which only a target with \`cloud:\` can; ${settings.hostLabel} is a host`,
      {
        hint: "Name the hosts (`nodes: [gpu1, gpu2]` or `--host gpu1,gpu2`), or run on a target with `cloud:`.",
      },
    );
  const share =
    cloud.budgetUsd === undefined
      ? settings
      : { ...settings, cloud: { ...cloud, budgetUsd: cloud.budgetUsd / count } };
  return Array.from({ length: count }, () => share);
}

/** One reporter a node: `[nK]`-prefixed lines for people, or JSON lines carrying `node`. */
export function createNodeReporters(
  out: Output,
  flags: { json?: boolean; quiet?: boolean },
  count: number,
) {
  const human = flags.json ? undefined : createHumanReporter(out, { quiet: flags.quiet ?? false });
  const base: Reporter = human ?? createJsonReporter(out);
  const prefixed = Array.from({ length: count }, (_, node) =>
    human === undefined
      ? {
          report: (event: RunEvent) => base({ ...event, node } as unknown as RunEvent),
          flush: () => {},
        }
      : prefixNode(human, node),
  );
  return { human, base, prefixed };
}

/**
 * Two nodes on one host with one remote dir would share its files and its lock: the second node was
 * refused as locked by its own sibling, with a hint to `--force` it. Refused before anything connects.
 * (Two aliases of one machine are not seen here: the lock refuses them, and session/nodes.ts says why.)
 */
export function refuseSharedRemoteDirs(nodes: readonly EffectiveSettings[]): void {
  const seen = new Map<string, number>();
  nodes.forEach((settings, index) => {
    const h = settings.host;
    const key = JSON.stringify(
      h.kind === "local"
        ? ["local", settings.remoteDir]
        : [h.user, h.host, h.port, settings.remoteDir],
    );
    const first = seen.get(key);
    if (first !== undefined)
      throw new OffloadError(
        "E_USAGE",
        `Nodes ${first} and ${index} are the same host and remote dir (${settings.hostLabel}, ${settings.remoteDir}): they would share its files and its lock.`,
        {
          hint: "Give each node a host of its own, or a remote dir of its own (`--host gpu1/a,gpu1/b`).",
        },
      );
    seen.set(key, index);
  });
}

/** Node `node`'s events for people: its log lines prefixed, its other lines as `[nK] …` notices. */
export function prefixNode(
  report: HumanReporter,
  node: number,
): { report: Reporter; flush: () => void } {
  const tag = `[n${node}] `;
  let pending = "";
  const emit = (text: string) => report({ type: "output", data: Buffer.from(text) });
  return {
    report: (event: RunEvent) => {
      if (event.type === "output") {
        pending += Buffer.from(event.data).toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        if (lines.length > 0) emit(lines.map((line) => `${tag}${line}\n`).join(""));
        return;
      }
      // Progress and metrics come from node 0 alone: every rank of a DDP job prints the same epochs.
      if (event.type === "progress" || event.type === "metric") {
        if (node === 0) report(event);
        return;
      }
      if (event.type === "finished" || event.type === "failed") return;
      const line = describeEvent(event);
      if (line !== undefined) report.say(`${tag}${line}`);
    },
    flush: () => {
      if (pending !== "") emit(`${tag}${pending}\n`);
      pending = "";
    },
  };
}

function exitCodeOf(record: RunRecord): number {
  if (record.status === "running") return 0;
  if (record.exitCode === 0 && record.error?.code === "E_DOWNLOAD") return EXIT_CODES.download;
  return record.exitCode ?? EXIT_CODES.lost;
}

/**
 * A job across nodes followed by this terminal (`run`, `attach`): one reporter a node, Ctrl+C taken as
 * `mode` says, every node's last partial line shown; then, unless `early` answers first (--no-wait, a
 * leave), the job's end said once and its exit code (the decisive node's).
 */
export async function followNodes(
  out: Output,
  flags: { json?: boolean; quiet?: boolean },
  count: number,
  mode: Parameters<typeof captureInterrupts>[0],
  work: (reportFor: (node: number) => Reporter, controls: RunControls) => Promise<NodesResult>,
  early: (ended: NodesResult, controls: RunControls) => number | undefined = () => undefined,
): Promise<number> {
  const interrupts = captureInterrupts(mode, out.closed);
  const { human, base, prefixed } = createNodeReporters(out, flags, count);
  try {
    const ended = await work((node) => prefixed[node]?.report ?? base, interrupts.controls);
    for (const p of prefixed) p.flush();
    const code = early(ended, interrupts.controls);
    if (code !== undefined) return code;
    base(describeNodesEnd(ended));
    return exitCodeOf(ended.decisive);
  } finally {
    for (const p of prefixed) p.flush();
    human?.close();
    interrupts.release();
  }
}

export async function runNodesCommand(
  projectDir: string,
  nodeSettings: readonly EffectiveSettings[],
  command: string[],
  flags: RunFlags,
  out: Output,
  workdir = "",
): Promise<number> {
  const secrets = resolveSecrets(flags.secret ?? [], process.env, (path) =>
    readFileSync(path, "utf8"),
  );
  const store = createStore(projectDir);
  const nodes: NodeTarget[] = nodeSettings.map((settings) =>
    createRunContext({ projectDir, settings, store }),
  );
  return followNodes(
    out,
    flags,
    nodes.length,
    "stop-then-leave",
    (reportFor, controls) =>
      runOnNodes({
        command,
        secrets,
        rebuildEnv: flags.rebuildEnv ?? false,
        nodes,
        reportFor,
        ...(flags.name !== undefined ? { name: checkRunName(flags.name) } : {}),
        tags: parseRunTags(flags.tag ?? []),
        workdir,
        force: flags.force ?? false,
        controls,
        noWait: flags.wait === false,
      }),
    ({ records }) => (flags.wait === false ? reportStarted(records, out, flags) : undefined),
  );
}

/** --no-wait: every rank started; the runs' ids and what follows, stops and reads them. */
function reportStarted(records: readonly RunRecord[], out: Output, flags: RunFlags): number {
  const id = records[0]?.id ?? "";
  if (flags.json) {
    out.stdout.write(
      `${JSON.stringify({ started: records.map((r) => ({ node: r.group?.node ?? null, runId: r.id, target: r.target.label })) })}\n`,
    );
    return 0;
  }
  out.stdout.write(`${records.map((r) => r.id).join("\n")}\n`);
  out.stderr.write(
    `job started on ${records.length} nodes; nothing stops the others if one fails until \`offload attach ${id}\` follows them all; stop every node with \`offload stop ${id}\`; a node's log: \`offload logs --node K ${id}\`\n`,
  );
  return 0;
}
