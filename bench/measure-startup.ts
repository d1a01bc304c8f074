// `offload run -- true` on an unchanged 10-file project, warm and cold, beside rsync no-op + ssh true.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "./context.js";
import { exitMaster, makeTree, offloadControlPath, openBaselineMaster } from "./context.js";
import { addRun, phaseNames, runOffload } from "./offload-cli.js";
import { compareAboveFloor, type Result, Samples } from "./result.js";
import { alternate, mustTime, run } from "./tools.js";

/** rsync no-op of the tree, then `ssh host true`: the two steps offload's run stands for. */
async function baseline(ctx: BenchContext, project: string, controlDir: string): Promise<number> {
  const ssh = ctx.ssh(controlDir);
  const baseRemote = ctx.remote("small-base");
  const r = await mustTime([
    "rsync",
    "-a",
    "-e",
    ssh.join(" "),
    `${project}/`,
    `${ctx.host}:${baseRemote}/`,
  ]);
  const s = await mustTime([...ssh, ctx.host, "true"]);
  return r.ms + s.ms;
}

export async function measureStartup(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const remote = ctx.remote("small");
  const baseRemote = ctx.remote("small-base");
  const project = join(ctx.scratch, "small");
  makeTree(project, 10);
  const base = openBaselineMaster(ctx);
  // Untimed first calls: offload's master and both remote copies exist before round 0.
  await runOffload(ctx, project, { remote });
  await baseline(ctx, project, base.dir);
  const s = new Samples();
  // Two warm runs more: the first after a sync that changed files syncs once more (its writes came after
  // its stamp); from then on an unchanged workspace is proven unchanged and not synced (README).
  await runOffload(ctx, project, { remote });
  for (let i = 0; i < repeats; i++) {
    // Node's floor beside each round: what any Node CLI pays before its first line runs.
    s.add("node -e ''", (await mustTime([process.execPath, "-e", ""])).ms);
    s.add("offload --version", (await mustTime([...ctx.offload, "--version"])).ms);
    await alternate(
      i,
      async () => addRun(s, "warm.", await runOffload(ctx, project, { remote })),
      async () => s.add("warm.baseline", await baseline(ctx, project, base.dir)),
    );
    await alternate(
      i + 1,
      async () => {
        const fresh = mkdtempSync(join(ctx.scratch, "cold-"));
        const env = { ...ctx.env, OFFLOAD_CONTROL_DIR: fresh };
        addRun(s, "cold.", await runOffload(ctx, project, { remote, env }));
        exitMaster(ctx.bed.sshConfig, ctx.host, offloadControlPath(fresh));
      },
      async () => {
        const fresh = mkdtempSync(join(ctx.scratch, "cold-base-"));
        s.add("cold.baseline", await baseline(ctx, project, fresh));
        exitMaster(ctx.bed.sshConfig, ctx.host, fresh);
      },
    );
  }
  run([...ctx.ssh(base.dir), ctx.host, `rm -rf ${remote} ${baseRemote}`]);
  base.close();
  const common = s.medians(["offload --version"]);
  return [
    compareAboveFloor({
      measure: "run -- true, warm",
      offload: s.get("warm.wall"),
      baseline: s.get("warm.baseline"),
      floor: s.get("node -e ''"),
      limit: 1.25,
      what: {
        offload:
          "whole `node bin/offload.js run -- true` wall time (node start-up included), master up",
        baseline: "`rsync -a` no-op of the same 10 files + `ssh host true`, over a warm master",
      },
      details: { ...common, ...s.medians(phaseNames("warm.")) },
    }),
    compareAboveFloor({
      measure: "run -- true, cold",
      offload: s.get("cold.wall"),
      baseline: s.get("cold.baseline"),
      floor: s.get("node -e ''"),
      limit: 1.25,
      what: {
        offload: "same, with a fresh OFFLOAD_CONTROL_DIR: no master, one handshake",
        baseline:
          "same rsync + ssh with ControlMaster=auto and no master yet: rsync's ssh opens it (one handshake), ssh true reuses it",
      },
      details: { ...common, ...s.medians(phaseNames("cold.")) },
    }),
  ];
}
