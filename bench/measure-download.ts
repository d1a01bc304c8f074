// A 1 GiB artifact brought home: offload's download phase beside `ssh host cat file > local`.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "./context.js";
import { openBaselineMaster } from "./context.js";
import { addRun, phaseNames, runOffload } from "./offload-cli.js";
import type { Result } from "./result.js";
import { Samples } from "./result.js";
import { alternate, median, mustTime, run } from "./tools.js";

const MIB = 1024;

/**
 * The file is made once, before the rounds, in the remote dir: the job is `true`, so offload's
 * `phases.download` (listing round trip + transfer + rename into place) is the only part that moves
 * the gigabyte, and both sides read it from the same warm page cache and write the same local disk.
 */
export async function measureDownload(ctx: BenchContext, repeats: number): Promise<Result[]> {
  const remote = ctx.remote("dl");
  const project = join(ctx.scratch, "dl");
  mkdirSync(project);
  const base = openBaselineMaster(ctx);
  const ssh = ctx.ssh(base.dir);
  run([...ssh, ctx.host, `mkdir -p ${remote} && head -c ${MIB}M /dev/urandom > ${remote}/big.bin`]);
  const local = join(ctx.scratch, "big.bin");
  const s = new Samples();
  for (let i = 0; i < repeats; i++) {
    await alternate(
      i,
      async () => {
        const outcome = await runOffload(ctx, project, {
          remote,
          flags: ["--download", "big.bin"],
        });
        const ms = outcome.record.phases.download;
        if (ms === undefined || outcome.record.artifacts.length !== 1)
          throw new Error("offload did not download big.bin");
        s.add("offload", MIB / (ms / 1000));
        addRun(s, "", outcome);
        rmSync(join(project, ".offload"), { recursive: true, force: true });
      },
      async () => {
        const t = await mustTime([
          "sh",
          "-c",
          `${ssh.join(" ")} ${ctx.host} cat ${remote}/big.bin > ${local}`,
        ]);
        s.add("baseline", MIB / (t.ms / 1000));
        rmSync(local, { force: true });
      },
    );
    const r = await mustTime([
      "rsync",
      "-a",
      "-e",
      ssh.join(" "),
      `${ctx.host}:${remote}/big.bin`,
      local,
    ]);
    s.add("rsync -a (MiB/s)", MIB / (r.ms / 1000));
    rmSync(local, { force: true });
  }
  run([...ssh, ctx.host, `rm -rf ${remote}`]);
  base.close();
  const o = median(s.get("offload"));
  const b = median(s.get("baseline"));
  return [
    {
      measure: "1 GiB artifact download",
      unit: "MiB/s",
      offload: o,
      baseline: b,
      ratio: o / b,
      target: "≥ 0.9×",
      pass: o / b >= 0.9,
      what: {
        offload:
          "1 GiB ÷ offload's `phases.download` (listing round trip + transfer + rename) of `run --download big.bin -- true`",
        baseline: "1 GiB ÷ wall time of `ssh host cat big.bin > local` over a warm master",
      },
      details: s.medians([...phaseNames(""), "rsync -a (MiB/s)"]),
      samples: { offload: s.get("offload"), baseline: s.get("baseline") },
    },
  ];
}
