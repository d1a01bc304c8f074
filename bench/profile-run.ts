// Where a warm `offload run -- true` spends its time: `node --import tsx bench/profile-run.ts [cold]`
// prints OFFLOAD_TRACE's time line of one run (after a warm-up run); PROFILE_NODE_ARGS adds node flags
// (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { exitMaster, makeTree, offloadControlPath, openContext } from "./context.js";
import { offloadArgv } from "./offload-cli.js";
import { mustTime } from "./tools.js";

const cold = process.argv.includes("cold");
const rounds = Number(process.env.BENCH_REPEATS ?? 3) || 3;
const ctx = await openContext();
try {
  const project = join(ctx.scratch, "small");
  makeTree(project, 10);
  const nodeArgs = process.env.PROFILE_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const call = { remote: ctx.remote("profile") };
  await mustTime(offloadArgv(ctx, call), { cwd: project, env: ctx.env });
  for (let i = 0; i < rounds; i++) {
    const fresh = cold ? mkdtempSync(join(ctx.scratch, "cold-")) : undefined;
    const env = {
      ...ctx.env,
      OFFLOAD_TRACE: "1",
      ...(fresh ? { OFFLOAD_CONTROL_DIR: fresh } : {}),
    };
    const [node = "", ...rest] = offloadArgv(ctx, call);
    const timed = await mustTime([node, ...nodeArgs, ...rest], { cwd: project, env });
    if (fresh) exitMaster(ctx.bed.sshConfig, ctx.host, offloadControlPath(fresh));
    process.stdout.write(`--- round ${i}: ${timed.ms.toFixed(0)} ms wall\n${timed.stderr}`);
  }
} finally {
  ctx.cleanup();
}
