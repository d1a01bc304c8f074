// Syncs beside the bare tools. A first sync (fresh remote dir) of 5,000 × 2 KB files and of 20,000 files
// of 1–200 KB, each against the best of `rsync -a`, rsync with offload's own flags and `tar c | ssh tar
// x`; then the no-op and one-file-changed syncs of the small tree against `rsync -a`.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "./context.js";
import { makeTree, openBaselineMaster, REPO } from "./context.js";
import { addRun, phaseNames, runOffload } from "./offload-cli.js";
import { compareTimes, type Result, Samples } from "./result.js";
import { median, mustTime, run } from "./tools.js";

const FILES = 5000;
/**
 * Remote trees live on the host's tmpfs: this machine's ext4 is mounted with `discard`, and the journal
 * commit after deleting a tree stalls file creation for a second or more (measured: 0.4 s → 1.4 s for the
 * same rsync), which would turn each round's clean-up into noise in the next round's first sync.
 */
const REMOTE_ROOT = "/dev/shm";
/**
 * Not `bench-*`: the bed's hosts share this machine's file system, and another bench's clean-up removes
 * `/dev/shm/bench-*` (seen: a baseline rsync failing mid-copy as its dir went); this one cleans its own.
 */
const PREFIX = `${REMOTE_ROOT}/sync-${process.pid}`;
const INCREMENTAL = ["noop", "one"] as const;
const TITLES = {
  noop: "no-op sync, 5,000 files",
  one: "one file changed, 5,000 files",
};
/** The first-sync baselines; the target is offload against the best of them. */
const FIRST_BASELINES = ["rsync -a", "rsync, offload's flags", "tar | ssh tar"] as const;
type FirstBaseline = (typeof FIRST_BASELINES)[number];

/** offload's workspace scan as a new process pays it (cold JIT), from the built module. */
function scanCold(project: string): number {
  const module = join(REPO, "dist", "sync", "scan.js");
  const script = `const { scanWorkspace } = await import(${JSON.stringify(module)}); const t = performance.now(); await scanWorkspace(${JSON.stringify(project)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return result.status === 0 ? Number(result.stdout) : Number.NaN;
}

/**
 * 20,000 files of 1–200 KB, log-uniform (many small, few large, ~750 MB), in 200 folders two deep;
 * pseudo-random bytes from a fixed seed, so every run measures the same tree.
 */
function makeMixedTree(root: string, count = 20_000): void {
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const noise = Buffer.alloc(400 * 1024);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(next() * 256);
  for (let i = 0; i < count; i++) {
    const dir = join(root, `set${i % 20}`, `part${i % 200}`);
    if (i < 200) mkdirSync(dir, { recursive: true });
    const size = Math.round(1024 * 200 ** next());
    const start = Math.floor(next() * (noise.length - size));
    writeFileSync(join(dir, `item${i}.bin`), noise.subarray(start, start + size));
  }
}

/** Runs the contenders in an order that rotates each round, so none always goes first. */
async function rotate(round: number, steps: readonly (() => Promise<void>)[]): Promise<void> {
  for (let k = 0; k < steps.length; k++)
    await (steps[(round + k) % steps.length] as () => Promise<void>)();
}

export async function measureSync(ctx: BenchContext, repeats: number): Promise<Result[]> {
  // BENCH_SYNC_TOOL=rsync measures offload's first sync as it was before the tar stream (first-sync.ts).
  const tool = process.env.BENCH_SYNC_TOOL;
  if (tool !== undefined) {
    const dir = join(ctx.env.XDG_CONFIG_HOME ?? "", "offload");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.yaml"), `sync: { tool: ${tool} }\n`);
  }
  const base = openBaselineMaster(ctx);
  const ssh = ctx.ssh(base.dir);
  const rsh = ssh.join(" ");
  const clean = (...dirs: string[]) => run([...ssh, ctx.host, `rm -rf ${dirs.join(" ")}`]);
  const baselines: Record<FirstBaseline, (tree: string, dest: string) => Promise<number>> = {
    "rsync -a": async (tree, dest) =>
      (await mustTime(["rsync", "-a", "-e", rsh, `${tree}/`, `${ctx.host}:${dest}/`])).ms,
    // What offload passes (src/sync/rsync.ts), less the exclude list on stdin: nothing is left out here.
    "rsync, offload's flags": async (tree, dest) =>
      (
        await mustTime([
          "rsync",
          "-a",
          "-s",
          "--modify-window=-1",
          "--stats",
          "--no-devices",
          "--no-specials",
          "-e",
          rsh,
          `${tree}/`,
          `${ctx.host}:${dest}/`,
        ])
      ).ms,
    "tar | ssh tar": async (tree, dest) =>
      (
        await mustTime([
          "sh",
          "-c",
          `tar -C "$1" -cf - . | ${rsh} ${ctx.host} "mkdir -p ${dest} && tar -C ${dest} -xf -"`,
          "sh",
          tree,
        ])
      ).ms,
  };

  /** The first sync of `tree` by offload and by each baseline, each into a fresh remote dir. */
  async function firstSyncs(
    name: string,
    tree: string,
    rounds: number,
    s: Samples,
    onRound?: (round: number, remote: string) => Promise<void>,
  ): Promise<void> {
    await runOffload(ctx, tree, { remote: `${PREFIX}-${name}-warmup` }); // page cache, master
    clean(`${PREFIX}-${name}-warmup`);
    for (let i = 0; i < rounds; i++) {
      const remote = `${PREFIX}-${name}-${i}`;
      await rotate(i, [
        async () => {
          const outcome = await runOffload(ctx, tree, { remote });
          s.add(`${name}.offload`, outcome.record.phases.sync);
          s.add(`${name}.tool is tar`, outcome.record.sync?.tool === "tar" ? 1 : 0);
          addRun(s, `${name}.`, outcome);
          await onRound?.(i, remote);
          clean(remote);
        },
        ...FIRST_BASELINES.map((baseline, b) => async () => {
          const dest = `${PREFIX}-${name}-base${b}-${i}`;
          s.add(`${name}.${baseline}`, await baselines[baseline](tree, dest));
          clean(dest);
        }),
      ]);
    }
  }

  function compareFirst(name: string, title: string, s: Samples): Result {
    const medians = FIRST_BASELINES.map((b) => median(s.get(`${name}.${b}`)));
    const best = FIRST_BASELINES[medians.indexOf(Math.min(...medians))] ?? "rsync -a";
    // Each round's offload ÷ best baseline, taken minutes apart at most: on a loaded machine a median
    // of these moves less than the ratio of the medians (rounds at load 15 ran 0.3× to 1.7×).
    const base = s.get(`${name}.${best}`);
    const paired = s.get(`${name}.offload`).flatMap((ms, i) => {
      const b = base[i];
      return b === undefined ? [] : [ms / b];
    });
    const result = compareTimes({
      measure: title,
      offload: s.get(`${name}.offload`),
      baseline: s.get(`${name}.${best}`),
      limit: 1.0,
      what: {
        offload:
          "offload's `phases.sync` from run.json (a tar stream into the empty dir, after the scan that overlaps the connect), master up; details: each baseline, whole-command wall and phases",
        baseline: `the best of ${FIRST_BASELINES.map((b) => `\`${b}\``).join(", ")} into a fresh dir (here \`${best}\`), each over a warm master of its own; remote dirs on the host's tmpfs`,
      },
      details: s.medians([
        ...FIRST_BASELINES.map((b) => `${name}.${b}`),
        `${name}.tool is tar`,
        ...phaseNames(`${name}.`),
      ]),
    });
    if (paired.length > 0)
      result.details[`${name}.ratio, median of rounds`] = Math.round(median(paired) * 100) / 100;
    return result;
  }

  const results: Result[] = [];
  // Both trees live on tmpfs: once the page cache lets a tree go, this machine's disk reads at a few
  // MB/s (seen: a baseline rsync of the big tree stalled for minutes), and deleting 5,000 files on its
  // ext4 (mounted with `discard`) took minutes: the bench would measure the disk, not the tools.
  const shm = mkdtempSync("/dev/shm/offload-bench-");
  try {
    return await measureTrees(shm);
  } finally {
    rmSync(shm, { recursive: true, force: true });
    clean(`${PREFIX}-*`);
    base.close();
  }

  async function measureTrees(root: string): Promise<Result[]> {
    // 5,000 × 2 KB: the first sync, then the no-op and one-file syncs into the dir it made.
    const small = join(root, "tree");
    makeTree(small, FILES, 2048);
    const s = new Samples();
    await firstSyncs("small", small, repeats, s, async (i, remote) => {
      const baseRemote = `${PREFIX}-tree-base-${i}`;
      await mustTime(["rsync", "-a", "-e", rsh, `${small}/`, `${ctx.host}:${baseRemote}/`]);
      for (const kind of INCREMENTAL) {
        if (kind === "one") writeFileSync(join(small, "dir7", "file7.py"), `# changed ${i}\n`);
        await rotate(i, [
          async () => {
            const outcome = await runOffload(ctx, small, { remote });
            s.add(`${kind}.offload`, outcome.record.phases.sync);
            addRun(s, `${kind}.`, outcome);
          },
          async () =>
            s.add(
              `${kind}.baseline`,
              (
                await mustTime([
                  "rsync",
                  "-a",
                  "-e",
                  rsh,
                  `${small}/`,
                  `${ctx.host}:${baseRemote}/`,
                ])
              ).ms,
            ),
        ]);
      }
      s.add("scan in a fresh node", scanCold(small));
      clean(baseRemote);
    });
    results.push(compareFirst("small", "first sync, 5,000 × 2 KB", s));
    for (const kind of INCREMENTAL)
      results.push(
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

    // 20,000 files of 1–200 KB (~780 MB): fewer rounds, each copy removed as soon as it is timed.
    // BENCH_SYNC_SMALL=1 leaves it out (a minute or more a round on a loaded machine).
    if (process.env.BENCH_SYNC_SMALL) return results;
    const mixed = join(root, "mixed");
    makeMixedTree(mixed);
    const m = new Samples();
    await firstSyncs("mixed", mixed, Math.min(repeats, 3), m);
    results.push(compareFirst("mixed", "first sync, 20,000 files of 1–200 KB", m));
    return results;
  }
}
