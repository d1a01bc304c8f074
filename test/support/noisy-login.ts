// A test-bed host whose login shell prints (a block in its ~/.bashrc, which bash runs for a command
// sshd gives it), for this file's connections only: they come from an address of their own on the
// bed's bridge (ssh BindAddress), which the block tells by $SSH_CONNECTION. Other tests sharing the
// host see a quiet shell. Up in beforeAll, removed in afterAll.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { defaultNames, execInHost, type TestbedInfo } from "../testbed/index.js";
import { type CliResult, runCli } from "./cli.js";
import type { TempProject } from "./project.js";

export interface NoisyLogin {
  /** `offload <args>` in the project, its first word the command, from the noisy address. */
  offload(p: TempProject, args: string[]): Promise<CliResult>;
  /** Runs `script` in the host (not over ssh: no noise); its stdout, or throws. */
  inHost(script: string): Promise<string>;
}

export function useNoisyLogin(
  bed: TestbedInfo,
  host: string,
  options: {
    /** An address of the bed's /24 no other test uses. */
    address: string;
    /** Names the rc block (and files `~/<token>.*` and remote dirs `~/<token>-*`, removed after). */
    token: string;
    /** What the login shell does for our connections: shell text. */
    noise: string;
  },
): NoisyLogin {
  const { address, token } = options;
  const begin = `# ${token} begin`;
  const end = `# ${token} end`;
  const block = [
    begin,
    `case "$SSH_CONNECTION" in "${address} "*) ${options.noise} ;; esac`,
    end,
    "",
  ];
  const inHost = async (script: string) => {
    const result = await execInHost(host, ["sh", "-c", script]);
    if (result.code !== 0) throw new Error(`in ${host}: ${script}: ${result.stderr}`);
    return result.stdout;
  };
  let base = "";
  // Private control sockets: a master opened from our address must serve no other test, and theirs not us.
  let controlDir = "";
  let sshConfig = "";
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "offload-noisy-login-"));
    controlDir = join(base, "control");
    await mkdir(controlDir, { mode: 0o700 });
    sshConfig = join(base, "ssh_config");
    await writeFile(sshConfig, `BindAddress ${address}\nInclude ${bed.sshConfig}\n`);
    execFileSync("ip", ["addr", "replace", `${address}/24`, "dev", defaultNames().bridge]);
    const text = block.join("\n");
    await inHost(`printf '%s' '${text.replaceAll("'", "'\\''")}' >> /root/.bashrc`);
  });
  afterAll(async () => {
    await inHost(
      `sed -i '/^${begin}$/,/^${end}$/d' /root/.bashrc; rm -rf ~/${token}.* ~/${token}-*`,
    );
    execFileSync("ip", ["addr", "del", `${address}/24`, "dev", defaultNames().bridge]);
    await rm(base, { recursive: true, force: true });
  });
  return {
    offload: (p, args) =>
      runCli([...args.slice(0, 1), "--ssh-config", sshConfig, ...args.slice(1)], {
        cwd: p.dir,
        env: { OFFLOAD_CONTROL_DIR: controlDir },
      }),
    inHost,
  };
}
