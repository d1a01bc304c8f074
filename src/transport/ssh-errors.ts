// Turns what OpenSSH prints when a connection fails into an OffloadError with a hint a person can act on.
import { OffloadError } from "../errors.js";
import { quoteShell } from "../shell/quote.js";

/** ssh exits 255 for its own failures; these lines tell them apart from a remote command that exits 255. */
const SSH_FAILURE =
  /^(ssh: |ssh_exchange|kex_exchange|Connection (to \S+ (port \d+ )?)?(closed|timed out|refused)|Connection timed out|Connection reset|client_loop|Timeout, server|mux_client|Control socket|Host key verification failed|Permission denied|packet_write|Bad owner|Bad configuration|\S+: Permission denied|No \S+ host key is known|@@@@|Received disconnect|Load key|.*: No such file or directory$)/m;

/** What offload adds to ssh's stderr when it gave up on a host that never answered. */
export const NO_ANSWER = "Connection timed out: the host did not answer";

export function isSshFailure(code: number, stderr: string): boolean {
  return code === 255 && (stderr.trim() === "" || SSH_FAILURE.test(stderr));
}

/** The most telling line of ssh's complaint, for messages. */
function lastLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("@") && !line.startsWith("Warning:"));
  return lines.at(-1) ?? "ssh exited with status 255";
}

/**
 * The `ssh-keygen -R` that removes the key ssh refused, from what ssh said: its own "remove with" line
 * where it printed one, else the known_hosts file and the name (`[host]:port` off port 22) it looked up.
 */
function describeKeyRemoval(stderr: string): string {
  const suggested = /ssh-keygen -f "([^"\n]+)" -R "?([^"\s]+)"?/.exec(stderr);
  const file = suggested?.[1] ?? /^Offending \S+ key in (.+):\d+$/m.exec(stderr)?.[1];
  const name =
    suggested?.[2] ?? /^Host key for (\S+) has changed/m.exec(stderr)?.[1] ?? "<hostname>";
  const argument = name === "<hostname>" ? name : quoteShell(name);
  return `ssh-keygen ${file === undefined ? "" : `-f ${quoteShell(file)} `}-R ${argument}`;
}

/**
 * `label` names the target as the user did (`gpu-box/work`); `ssh` is what to type after `ssh` to reach
 * it by hand (`-p 2222 me@gpu-box`), for the hints; `connectTimeoutSeconds`, where known, is how long a
 * connection that timed out was waited for.
 */
export function classifySshFailure(
  label: string,
  stderr: string,
  ssh = label,
  connectTimeoutSeconds?: number,
): OffloadError {
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    return new OffloadError(
      "E_HOST_KEY_CHANGED",
      `The host key of ${label} has changed since it was recorded in known_hosts.`,
      {
        hint: `This can mean the machine was reinstalled, or that someone is intercepting the connection. If you know why it changed, remove the old key with \`${describeKeyRemoval(stderr)}\` and connect once with \`ssh ${ssh}\` to check and record the new one.`,
      },
    );
  }
  if (/No \S+ host key is known for|Host key verification failed/.test(stderr)) {
    return new OffloadError(
      "E_HOST_KEY_UNKNOWN",
      `The host key of ${label} is not in known_hosts, so its identity can't be verified.`,
      {
        hint: `Connect once with \`ssh ${ssh}\`, compare the fingerprint with the one your provider shows, and accept it; offload never accepts unknown keys by itself.`,
      },
    );
  }
  if (/Permission denied \(|Too many authentication failures/.test(stderr)) {
    return new OffloadError("E_AUTH", `${label} refused the login: ${lastLine(stderr)}`, {
      hint: `Check the user and key: \`ssh -v ${ssh} true\` shows which keys are offered. Set IdentityFile in ~/.ssh/config or use user@host.`,
    });
  }
  if (
    /Could not resolve hostname|Connection refused|Connection timed out|timed out|No route to host|Network is unreachable|Connection closed by|Connection reset|kex_exchange_identification/.test(
      stderr,
    )
  ) {
    const waited =
      connectTimeoutSeconds !== undefined && /timed out/.test(stderr)
        ? ` (waited ${connectTimeoutSeconds} s: ssh.connect_timeout)`
        : "";
    const slow = waited === "" ? "" : " If it is only slow to answer, raise `ssh.connect_timeout`.";
    return new OffloadError(
      "E_HOST_UNREACHABLE",
      `Can't reach ${label}: ${lastLine(stderr)}${waited}`,
      {
        hint: `Check that the machine is up and that \`ssh ${ssh} true\` works from this terminal; \`offload check --host ${label}\` reports what it sees.${slow}`,
      },
    );
  }
  return new OffloadError("E_SSH", `ssh to ${label} failed: ${lastLine(stderr)}`, {
    hint: `Run \`ssh -v ${ssh} true\` to see what OpenSSH does.`,
  });
}
