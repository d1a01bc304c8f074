// Asks the system's OpenSSH how it would connect to a host (`ssh -G`): Include, Match, ProxyJump, keys.

import { OffloadError } from "../errors.js";
import { runProcess } from "./process.js";
import { parseSshG, type SshResolved } from "./ssh-g.js";

export interface SshResolveTarget {
  host: string;
  user?: string | undefined;
  port?: number | undefined;
}

export interface SshResolveOptions {
  /** `ssh -F`: an ssh config file to read instead of ~/.ssh/config. */
  configFile?: string | undefined;
  /** `Match exec` in a config may run a command; don't wait on it forever. */
  timeoutMs?: number;
}

/** The argv of `ssh -G`; user and port from the host string go in as -l/-p so ssh weighs them as it would. */
export function buildSshGArgv(target: SshResolveTarget, options: SshResolveOptions = {}): string[] {
  if (target.host === "" || target.host.startsWith("-"))
    throw new Error(`refusing host ${JSON.stringify(target.host)}`);
  const argv = ["ssh", "-G"];
  if (options.configFile !== undefined) argv.push("-F", options.configFile);
  if (target.user !== undefined) argv.push("-l", target.user);
  if (target.port !== undefined) argv.push("-p", String(target.port));
  // `--` ends ssh's options (getopt), so the host is a host even if a check upstream ever missed a `-`.
  argv.push("--", target.host);
  return argv;
}

/** What ssh complained about, without its noise about terminals. */
function complaint(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("Pseudo-terminal will not be allocated"));
  return lines.join("; ") || "ssh -G failed without a message";
}

export async function resolveSsh(
  target: SshResolveTarget,
  options: SshResolveOptions = {},
): Promise<SshResolved> {
  const argv = buildSshGArgv(target, options);
  let result: Awaited<ReturnType<typeof runProcess>>;
  try {
    result = await runProcess(argv, { timeoutMs: options.timeoutMs ?? 15_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new OffloadError("E_SSH_MISSING", "The `ssh` program was not found.", {
        hint: "Install the OpenSSH client (Debian/Ubuntu: `apt install openssh-client`; macOS has it built in).",
        cause: error,
      });
    }
    throw error;
  }
  if (result.code !== 0) {
    const file = options.configFile ?? "~/.ssh/config";
    throw new OffloadError(
      "E_CONFIG_VALUE",
      `ssh could not read its configuration for ${target.host} (${file}): ${complaint(result.stderr)}`,
      {
        hint: `Run \`${argv.join(" ")}\` to see the problem; fix ${file} (or ssh.config_file in offload.yaml).`,
      },
    );
  }
  return parseSshG(result.stdout);
}
