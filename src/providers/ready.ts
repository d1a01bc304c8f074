// Readiness of a new machine over SSH: `ssh true` with the pinned host key and offload's login key,
// retried until it answers (sshd starts after the cloud already says running).
import { OffloadError } from "../errors.js";
import { runProcess } from "../transport/process.js";
import { defaultSleep } from "./retry.js";

export interface SshEndpoint {
  address: string;
  user: string;
  port?: number;
  identityFile: string;
  /** The machine's pinned known_hosts file: StrictHostKeyChecking yes, nothing else trusted. */
  knownHostsFile: string;
  /** An ssh config to use instead of ~/.ssh/config (`/dev/null` for none). */
  sshConfig?: string;
  /** A new machine of a cloud without user data: accept the first key into the (empty) known_hosts. */
  acceptNewHostKey?: boolean;
}

/** ssh options that trust only the pinned key and log in only with offload's key. */
export function pinnedSshOptions(endpoint: SshEndpoint): string[] {
  return [
    ...(endpoint.sshConfig === undefined ? [] : ["-F", endpoint.sshConfig]),
    "-o",
    "BatchMode=yes",
    "-o",
    `StrictHostKeyChecking=${endpoint.acceptNewHostKey === true ? "accept-new" : "yes"}`,
    "-o",
    `UserKnownHostsFile=${endpoint.knownHostsFile}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
    "-i",
    endpoint.identityFile,
    "-p",
    String(endpoint.port ?? 22),
  ];
}

export interface ReadyOptions {
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onWait?: (what: string) => void;
}

/** Resolves once `ssh true` succeeds; a changed host key fails at once (never retried into trust). */
export async function waitForSsh(endpoint: SshEndpoint, options: ReadyOptions = {}): Promise<void> {
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + (options.timeoutMs ?? 5 * 60_000);
  let pause = 250;
  let last = "";
  for (;;) {
    const argv = [
      "ssh",
      ...pinnedSshOptions(endpoint),
      "-o",
      "ConnectTimeout=5",
      // `--`: the user and address come from settings and a cloud's reply, never read as an option.
      "--",
      `${endpoint.user}@${endpoint.address}`,
      "true",
    ];
    const result = await runProcess(argv, { timeoutMs: 20_000 });
    if (result.code === 0) return;
    last = result.stderr.trim().split("\n").at(-1) ?? "";
    if (
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/i.test(result.stderr)
    ) {
      throw new OffloadError(
        "E_HOST_KEY_CHANGED",
        `the machine at ${endpoint.address} does not show the host key offload gave it`,
        {
          hint: "something else answers at that address; offload will not trust it — check the cloud's console",
        },
      );
    }
    if (Date.now() + pause > deadline) break;
    options.onWait?.(`ssh on ${endpoint.address} (${last || `exit ${result.code}`})`);
    await sleep(pause);
    pause = Math.min(pause * 2, 5_000);
  }
  throw new OffloadError(
    "E_HOST_UNREACHABLE",
    `the machine at ${endpoint.address} did not answer ssh in time: ${last}`,
    {
      hint: "check that the image runs cloud-init and that the security group allows port 22 (a slow image: raise the target's `ssh_timeout`)",
    },
  );
}
