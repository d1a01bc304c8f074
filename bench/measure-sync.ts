// Sync of a 5,000-file tree: first (fresh remote dir), no-op, one file changed, each beside `rsync -a`.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "./context.js";
import { makeTree, openBaselineMaster, REPO } from "./context.js";
import { addRun, phaseNames, runOffload } from "./offload-cli.js";
import { compareTimes, type Result, Samples } from "./result.js";
import { alternate, mustTime, run } from "./tools.js";

const FILES = 5000;
/**
 * Remote trees live on the host's tmpfs: this machine's ext4 is mounted with `discard`, and the journal
 * commit after deleting a tree stalls file creation for a second or more (measured: 0.4 s → 1.4 s for the
 * same rsync), which would turn each round's clean-up into noise in the next round's first sync.
 */
const REMOTE_ROOT = "/dev/shm";
const KINDS = ["first", "noop", "one"] as const;
const TITLES = {
  first: "first sync, 5,000 files",
  noop: "no-op sync, 5,000 files",
  one: "one file changed, 5,000 files",
};

/** offload's workspace scan as a new process pays it (cold JIT), from the built module. */
function scanCold(project: string): number {
  const module = join(REPO, "dist", "sync", "scan.js");
  const script = `const { scanWorkspace } = await import(${JSON.stringify(module)}); const t = performance.now(); await scanWorkspace(${JSON.stringify(project)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return result.status === 0 ? Number(result.stdout) : Number.NaN;
}

export async function measureSync(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const project = join(ctx.scratch, "tree");
  makeTree(project, FILES);
  const base = openBaselineMaster(ctx);
  const rsh = ctx.ssh(base.dir).join(" ");
  const rsync = (dest: string) =>
    mustTime(["rsync", "-a", "-e", rsh, `${project}/`, `${ctx.host}:${dest}/`]);
  await runOffload(ctx, project, { remote: `${REMOTE_ROOT}/bench-tree-warmup` }); // page cache, offload's master
  const s = new Samples();
  for (let i = 0; i < repeats; i++) {
    const remote = `${REMOTE_ROOT}/bench-tree-${i}`;
    const baseRemote = `${REMOTE_ROOT}/bench-tree-base-${i}`;
    for (const kind of KINDS) {
      if (kind === "one") writeFileSync(join(project, "dir7", "file7.py"), `# changed ${i}\n`);
      await alternate(
        i,
        async () => {
          const outcome = await runOffload(ctx, project, { remote });
          s.add(`${kind}.offload`, outcome.record.phases.sync);
          addRun(s, `${kind}.`, outcome);
        },
        async () => s.add(`${kind}.baseline`, (await rsync(baseRemote)).ms),
      );
    }
    s.add("scan in a fresh node", scanCold(project));
    run([...ctx.ssh(base.dir), ctx.host, `rm -rf ${remote} ${baseRemote}`]);
  }
  run([...ctx.ssh(base.dir), ctx.host, `rm -rf ${REMOTE_ROOT}/bench-tree-warmup`]);
  base.close();
  return KINDS.map((kind) =>
    compareTimes({
      measure: TITLES[kind],
      offload: s.get(`${kind}.offload`),
      baseline: s.get(`${kind}.baseline`),
      limit: 1.1,
      what: {
        offload:
          "offload's `phases.sync` from run.json (scan with ignore rules + rsync), master up; details: whole-command wall and the other phases",
        baseline:
          "`rsync -a tree/ host:dir/` over a warm master of its own (remote dirs on the host's tmpfs)",
      },
      details: s.medians([
        ...phaseNames(`${kind}.`),
        ...(kind === "noop" ? ["scan in a fresh node"] : []),
      ]),
    }),
  );
}
