// Talking to a machine offload made, by its tag: the ssh config that pins its host key and logs in with
// offload's key (what the run's transport uses too), and one script over it.
import { writeFile } from "node:fs/promises";
import { runProcess } from "../transport/process.js";
import type { Ledger } from "./ledger.js";
import type { Machine } from "./provision.js";

/** Writes `<ledger>/<tag>.ssh_config`: `ssh -F it <tag>` reaches the machine and trusts only its key. */
export async function writeMachineSshConfig(ledger: Ledger, machine: Machine): Promise<string> {
  const path = ledger.sshConfigPath(machine.tag);
  const lines = [
    `Host ${machine.tag}`,
    `  HostName ${machine.address}`,
    `  User ${machine.user}`,
    `  IdentityFile "${machine.identityFile}"`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile "${machine.knownHostsFile}"`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  BatchMode yes",
    "  ConnectTimeout 10",
    "  ServerAliveInterval 5",
    "  ServerAliveCountMax 3",
  ];
  await writeFile(path, `${lines.join("\n")}\n`, { mode: 0o600 });
  return path;
}

export interface MachineScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a POSIX sh script (given on stdin, never in argv) on the machine. */
export function runOnMachine(
  sshConfig: string,
  tag: string,
  script: string,
  options: { timeoutMs?: number; onStderr?: (chunk: Buffer) => void; signal?: AbortSignal } = {},
): Promise<MachineScriptResult> {
  return runProcess(["ssh", "-F", sshConfig, "--", tag, "sh -s"], {
    stdin: `${script}\n`,
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.onStderr === undefined ? {} : { onStderr: options.onStderr }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
