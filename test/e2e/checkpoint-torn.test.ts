// A checkpoint whose file is rewritten in place while it is copied: the copy is not whole, so it must
// not replace the last good copy in the run's artifacts (it did: the copy was renamed into place before
// the look after the copy found the file changed). The next checkpoint takes the file again.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { describeWithHosts } from "../testbed/index.js";

let project: TempProject | undefined;
let gate: string | undefined;
afterEach(async () => {
  // Lets a held download go on, should the test fail while it waits.
  if (gate !== undefined) await writeFile(`${gate}.go`, "");
  await project?.remove();
  project = undefined;
  gate = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeWithHosts(1, "a checkpoint torn by a rewrite during its copy", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";

  it("keeps the last good copy in the artifacts, then takes the file once it is whole", async () => {
    project = await makeProject();
    const dir = `offload-ckpt-torn-${process.pid}`;
    const onHost = (command: string) =>
      execFileSync("ssh", ["-n", "-F", bed.sshConfig, host, command], { encoding: "utf8" });
    const realRsync = execFileSync("sh", ["-c", "command -v rsync"], { encoding: "utf8" }).trim();
    const bin = join(project.home, "bin");
    gate = join(project.home, "gate");
    // rsync as offload runs it, with two interventions in the checkpoints' downloads (their staging
    // dir is in the argv): the 2nd has the job's file rewritten on the host just before it copies, so
    // the copy and the look after it disagree; the 3rd waits at a gate, so the test can read the
    // artifacts once the 2nd checkpoint is over.
    await project.write(
      "../home/bin/rsync",
      [
        "#!/bin/sh",
        'case "$*" in *.checkpoint-*)',
        `  n=$(cat ${gate}.n 2>/dev/null || echo 0); n=$((n + 1)); echo $n > ${gate}.n`,
        `  [ $n = 2 ] && ssh -n -F ${bed.sshConfig} ${host} "printf 'torn\\n' >> ${dir}/ckpt.pt"`,
        `  if [ $n = 3 ]; then touch ${gate}.third; while [ ! -f ${gate}.go ]; do sleep 0.1; done; fi ;;`,
        "esac",
        `exec ${realRsync} "$@"`,
        "",
      ].join("\n"),
    );
    execFileSync("chmod", ["+x", join(bin, "rsync")]);
    await project.write(
      "offload.yaml",
      "sync:\n  tool: rsync\ndownload:\n  - { path: ckpt.pt, every: 1s }\n",
    );
    await project.write(
      "job.sh",
      "printf 'v1\\n' > ckpt.pt\nwhile [ ! -f end ]; do sleep 0.2; done\n",
    );
    const running = runCli(
      ["run", "--ssh-config", bed.sshConfig, "--host", `${host}/${dir}`, "--", "sh", "job.sh"],
      {
        cwd: project.dir,
        env: { HOME: project.home, PATH: `${bin}:${process.env.PATH ?? ""}` },
        timeoutMs: 180_000,
      },
    );
    try {
      let id = "";
      await waitFor(async () => {
        id ||= (await project?.runIds())?.[0] ?? "";
        return (
          id !== "" && (await project?.record(id).catch(() => undefined))?.checkpoint !== undefined
        );
      }, "the first checkpoint");
      const copy = join(project.dir, ".offload/runs", id, "artifacts/ckpt.pt");
      expect(await readFile(copy, "utf8")).toBe("v1\n");
      // A new version, then the 2nd checkpoint's copy meets a rewrite; the 3rd starts once it is over.
      onHost(`printf 'v2\\n' > ${dir}/ckpt.pt`);
      await waitFor(() => existsSync(`${gate}.third`), "the third checkpoint's copy");
      expect(await readFile(copy, "utf8")).toBe("v1\n");
      expect((await project.record(id)).checkpoint?.count).toBe(1);
      await writeFile(`${gate}.go`, "");
      // The 3rd checkpoint takes the file, now holding still, whole.
      await waitFor(
        async () => ((await project?.record(id))?.checkpoint?.count ?? 0) >= 2,
        "the third checkpoint",
      );
      expect(await readFile(copy, "utf8")).toBe("v2\ntorn\n");
    } finally {
      onHost(`touch ${dir}/end 2>/dev/null; true`);
    }
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    onHost(`rm -rf ${dir}`);
  }, 200_000);
});
