// A job that replaces its checkpoint by rename faster than a checkpoint's two looks (the file never holds
// still for a second): the checkpoints still come home, each copy one whole version.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BODY = 100_000;
const VERSIONS = 40;

/** `version N`, BODY bytes, `end N`: whole only when both numbers agree and the size is right. */
function wholeVersion(bytes: Buffer): number | undefined {
  const text = bytes.toString("latin1");
  const head = /^version ([0-9]{6})\n/.exec(text);
  const tail = /\nend ([0-9]{6})\n$/.exec(text);
  if (!head || !tail || head[1] !== tail[1]) return undefined;
  return text.length === 15 + BODY + 12 ? Number(head[1]) : undefined;
}

describeWithHosts(1, "checkpoints of a file replaced by rename", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";

  it("records checkpoints of a checkpoint renamed over every half second, each copy whole", async () => {
    project = await makeProject();
    await project.write("offload.yaml", "download:\n  - { path: ckpt/last.pt, every: 1s }\n");
    await project.write(
      "job.sh",
      [
        "mkdir -p ckpt",
        "i=0",
        `while [ $i -lt ${VERSIONS} ]; do`,
        "  i=$((i + 1))",
        `  { printf 'version %06d\\n' $i; head -c ${BODY} /dev/zero | tr '\\0' x; printf '\\nend %06d\\n' $i; } > ckpt/.last.tmp`,
        "  mv ckpt/.last.tmp ckpt/last.pt",
        "  sleep 0.5",
        "done",
        "",
      ].join("\n"),
    );
    const before = new Set(await project.runIds());
    let finished = false;
    const running = runCli(
      [
        "run",
        "--ssh-config",
        bed.sshConfig,
        "--host",
        `${host}/offload-ckpt-rename-${process.pid}`,
        "--",
        "sh",
        "job.sh",
      ],
      { cwd: project.dir, env: { HOME: project.home }, timeoutMs: 180_000 },
    ).finally(() => {
      finished = true;
    });
    // While the job runs, every copy a checkpoint put home is read: each must be one whole version.
    const seen: (number | undefined)[] = [];
    let id = "";
    while (!finished) {
      id ||= (await project.runIds()).find((run) => !before.has(run)) ?? "";
      const record = id ? await project.record(id).catch(() => undefined) : undefined;
      if (record?.checkpoint) {
        const copy = await readFile(
          join(project.dir, ".offload/runs", id, "artifacts/ckpt/last.pt"),
        ).catch(() => undefined);
        if (copy !== undefined) seen.push(wholeVersion(copy));
      }
      await sleep(100);
    }
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    const record = await project.record(id);
    expect(record.checkpoint?.count, "no checkpoint was recorded").toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(
      seen.every((version) => version !== undefined),
      `${seen}`,
    ).toBe(true);
    // The end of the run brings the last version home.
    const last = await readFile(join(project.dir, ".offload/runs", id, "artifacts/ckpt/last.pt"));
    expect(wholeVersion(last)).toBe(VERSIONS);
  }, 200_000);
});
