// A host with neither tar nor rsync on the PATH its ssh sessions get (this machine has both): the sync
// cannot run, and the error must name the missing program and how to get it, not blame disk space.
// Only our connections get the reduced PATH: they come from an address of their own on the bed's bridge
// (ssh BindAddress), which ~/.bashrc tells by $SSH_CONNECTION. On a fault host leased for the file.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeProject, type TempProject } from "../support/project.js";
import { defaultNames, describeWithHosts, execInHost, useFaultHost } from "../testbed/index.js";

let project: TempProject | undefined;
afterEach(async () => {
  await project?.remove();
  project = undefined;
});

const TOKEN = `offload-notools-${process.pid}`;
const BEGIN = `# ${TOKEN} begin`;
const END = `# ${TOKEN} end`;
/** Not shell-noise.test.ts's address: both may hold theirs on the bridge at once. */
const OUR_ADDRESS = "10.200.1.253";
/** Inside the host: every program of /usr/bin and /bin but tar and rsync. */
const BIN = `/root/${TOKEN}-bin`;

describeWithHosts(
  3,
  "a host without tar and rsync",
  (bed) => {
    const fault = useFaultHost();
    let host = "";
    const inHost = async (script: string) => {
      const result = await execInHost(host, ["sh", "-c", script]);
      if (result.code !== 0) throw new Error(`in ${host}: ${script}: ${result.stderr}`);
    };
    let base = "";
    let sshConfig = "";
    const offload = (p: TempProject, args: string[]) =>
      runCli([...args.slice(0, 1), "--ssh-config", sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        env: { HOME: p.home, OFFLOAD_CONTROL_DIR: join(base, "control") },
      });

    beforeAll(async () => {
      host = fault.host;
      base = await mkdtemp(join(tmpdir(), "offload-notools-"));
      execFileSync("mkdir", ["-m", "700", join(base, "control")]);
      sshConfig = join(base, "ssh_config");
      await writeFile(sshConfig, `BindAddress ${OUR_ADDRESS}\nInclude ${bed.sshConfig}\n`);
      execFileSync("ip", ["addr", "replace", `${OUR_ADDRESS}/24`, "dev", defaultNames().bridge]);
      await inHost(
        `mkdir -p ${BIN} && for f in /usr/bin/* /bin/*; do n=\${f##*/}; case $n in tar|rsync) ;; *) [ -e ${BIN}/$n ] || ln -s "$f" ${BIN}/$n ;; esac; done`,
      );
      const rc = [
        BEGIN,
        `case "$SSH_CONNECTION" in "${OUR_ADDRESS} "*) PATH=${BIN} ;; esac`,
        END,
        "",
      ].join("\n");
      await inHost(`printf '%s' '${rc}' >> /root/.bashrc`);
    });
    afterAll(async () => {
      await inHost(`sed -i '/^${BEGIN}$/,/^${END}$/d' /root/.bashrc; rm -rf /root/${TOKEN}-*`);
      execFileSync("ip", ["addr", "del", `${OUR_ADDRESS}/24`, "dev", defaultNames().bridge]);
      await rm(base, { recursive: true, force: true });
    });

    it("names the missing tar, then the missing rsync, with how to install them (E_SYNC, exit 200)", async () => {
      project = await makeProject();
      await project.write("a.txt", "hello\n");
      const run = () =>
        offload(project as TempProject, [
          "run",
          "--host",
          `${host}/${TOKEN}-dir`,
          "--",
          "touch",
          "ran",
        ]);
      // auto: the host has no rsync, so tar.
      const auto = await run();
      expect(auto.code, auto.stderr).toBe(200);
      expect(auto.stderr).toContain("error E_SYNC");
      expect(auto.stderr).toContain("the host has no `tar` on its PATH");
      expect(auto.stderr).toContain("hint: Install rsync or tar on the host");
      expect(auto.stderr).not.toMatch(/disk space/);

      await project.write("offload.yaml", "sync:\n  tool: rsync\n");
      const rsync = await run();
      expect(rsync.code, rsync.stderr).toBe(200);
      expect(rsync.stderr).toContain("the host has no `rsync` on its PATH");
      expect(rsync.stderr).toContain("`sync: { tool: tar }`");
      expect(rsync.stderr).not.toMatch(/disk space/);
      const ran = execFileSync(
        "ssh",
        ["-F", bed.sshConfig, host, `ls ${TOKEN}-dir/ran 2>/dev/null || echo none`],
        { encoding: "utf8" },
      );
      expect(ran).toBe("none\n");
    });
  },
  { netns: true },
);
