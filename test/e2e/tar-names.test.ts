// Both upload paths (a tar stream, rsync) carry file names that are not valid UTF-8 byte for byte (a Linux
// file name is bytes; one Latin-1 name from an old archive must not fail the whole sync).
import { mkdir, writeFile } from "node:fs/promises";
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

describeWithHosts(1, "names that are not UTF-8", (bed) => {
  const host = bed.hosts[0] ?? "offload-h1";

  // tar: the fallback; auto: a first sync into an empty dir, which streams a tar too; rsync: later syncs.
  it.each([
    ["tar", "tar"],
    ["auto", "tar"],
    ["rsync", "rsync"],
  ])(
    "sync.tool %s uploads them byte-exact with %s, in a directory so named too",
    async (setting, tool) => {
      project = await makeProject();
      await project.write("offload.yaml", `sync:\n  tool: ${setting}\n`);
      const root = Buffer.from(project.dir);
      const bytes = (...parts: (Buffer | string | number[])[]) =>
        Buffer.concat(
          parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p as number[]))),
        );
      await writeFile(bytes(root, "/caf", [0xe9], ".txt"), "latin-1 name\n");
      await mkdir(bytes(root, "/dir", [0xfe]));
      await writeFile(bytes(root, "/dir", [0xfe], "/in", [0xfd], ".txt"), "nested\n");
      await writeFile(join(project.dir, "ok.txt"), "plain\n");
      await project.write(
        "job.sh",
        "cat \"$(printf 'caf\\351.txt')\" \"$(printf 'dir\\376/in\\375.txt')\" ok.txt\n",
      );
      const result = await runCli(
        [
          "run",
          "--ssh-config",
          bed.sshConfig,
          "--host",
          `${host}/tar-names-${setting}-${process.pid}-${Date.now()}`,
          "--",
          "sh",
          "job.sh",
        ],
        { cwd: project.dir },
      );
      expect(result.stderr).toContain(`with ${tool}`);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe("latin-1 name\nnested\nplain\n");
    },
  );
});
